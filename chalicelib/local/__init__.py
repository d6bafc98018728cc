"""The local cloud: moto with real ASL execution, its HTTP server, fault injection and a delivery harness.
Laptop and tests only; no Lambda ships or imports this package."""
