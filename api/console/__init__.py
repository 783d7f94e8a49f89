"""The web console: sign-in for people, the built SPA and the endpoints its pages need."""
