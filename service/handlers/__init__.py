"""One function per route: the validated request in, one engine call, the response body out.

A handler takes the request model that the route parsed and the deadline's
checkpoint (which the engine calls between layers and steps), asks the schema for
the engine's inputs (``req.to_engine()``), runs the engine once, and builds the body
with the schema's response builders. It knows nothing of HTTP: the route
(service/api/routes/) binds it to a path, and service/api/compute.py runs it off the
event loop within the time limit. Domain and engine errors rise to
service/api/problems.py.
"""
