"""Where things come in: asynchronous reports (the VERP inbound server); later the API and SMTP submission."""
