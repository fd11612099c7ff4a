# Sourced by bin/_venv.sh and bin/test (as root): install Debian packages, waiting for the dpkg lock.
# usage: . bin/_apt.sh; apt_install PKG...   (returns non-zero if they could not be installed)

apt_wait_lock() {
    # Another apt or unattended-upgrades may hold the lock: wait up to APT_LOCK_WAIT seconds (300).
    local waited=0 limit="${APT_LOCK_WAIT:-300}"
    command -v fuser >/dev/null || return 0 # no psmisc: apt's own DPkg::Lock::Timeout waits
    while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
        if [ "$waited" -ge "$limit" ]; then
            echo "the dpkg lock is still held after ${limit} s (another apt is running)" >&2
            return 1
        fi
        [ "$waited" = 0 ] && echo "waiting for the dpkg lock (another apt is running) ..." >&2
        sleep 2
        waited=$((waited + 2))
    done
}

apt_install() {
    echo "installing Debian packages: $*" >&2
    apt_wait_lock || return 1
    # "No configuration": postfix installs smtp-source/smtp-sink and sets up no MTA.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # -o DPkg::Lock::Timeout: apt itself waits too if the lock is taken between the check and now
    apt-get -o DPkg::Lock::Timeout=120 update -qq >&2 \
        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
            --no-install-recommends "$@" >&2
}
