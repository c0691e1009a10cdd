"""The API's routers, one module per area; each exposes ``router: APIRouter``."""
