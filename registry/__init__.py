"""The registry: suspicious IPs, domains, URLs, phone numbers, accounts, wallets and file hashes shared
between police cybercrime units."""

__version__ = "0.1.0"


def create_app(config=None):
    """Build the Flask application (see registry.web.app)."""
    from registry.web.app import create_app as _create

    return _create(config)
