"""The FastAPI application, its routers, the operator UI and the live push."""
