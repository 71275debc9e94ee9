"""The learner's page (GET /learn): learn.html, and its script and styles in static/, served by the service itself.

Plain HTML, CSS and JavaScript modules, no build step and no other host: the page
talks to the service only through its public API (/v1/explain, /v1/diagram,
/v1/train-step, /v1/train and the catalogs), and keeps its whole state in the URL
fragment. See service/api/routes/learn.py.
"""

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent
STATIC_DIR = PAGES_DIR / "static"
