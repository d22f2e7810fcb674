import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("APP_SECRET_KEY", "demo-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "shop"]
MIDDLEWARE = []
ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("APP_DB_NAME", "shop"),
        "USER": os.environ.get("APP_DB_USER", "shop"),
        "PASSWORD": os.environ.get("APP_DB_PASSWORD", ""),
        "HOST": os.environ.get("APP_DB_HOST", "localhost"),
        "PORT": os.environ.get("APP_DB_PORT", "5432"),
        "CONN_MAX_AGE": 60,
    }
}
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("APP_STATIC_ROOT", str(BASE_DIR / "static"))
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
RELEASE_FILE = BASE_DIR / "RELEASE"
RELEASE = RELEASE_FILE.read_text().strip() if RELEASE_FILE.exists() else "dev"
