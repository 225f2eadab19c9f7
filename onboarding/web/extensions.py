"""Unbound request-side Flask extensions, initialised in the factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
migrate = Migrate()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://... to share
# counters between app servers); no limit applies unless a view asks for one.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
