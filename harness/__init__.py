"""drs-parity: prove a decomposed serverless system behaves exactly like its monolith, on an emulated AWS."""
