"""A real, minimal Django project for the mailfate Django tests (pytest-django loads it)."""

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = ["anymail"]  # django-anymail: its Amazon SES tracking view reads format = "ses"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware"]
ROOT_URLCONF = "tests.support.djangoproject.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
DEFAULT_FROM_EMAIL = "App <no-reply@app.example>"
EMAIL_BACKEND = "mailfate.django.EmailBackend"
MAILFATE: dict[str, str] = {"WEBHOOK_SECRET": "django-tests-webhook-secret"}
ANYMAIL = {"WEBHOOK_SECRET": "anymail:tests-only", "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False}
