"""Protocols on top of TCP that the chapters run: HTTP, heartbeats, WebSocket."""
