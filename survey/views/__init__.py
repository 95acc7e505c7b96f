"""Views: parse the request, call one service or selector, render."""
