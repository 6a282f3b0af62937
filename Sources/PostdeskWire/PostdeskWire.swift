// PostdeskWire owns what crosses the admin socket and the HTTP API: the bodies and answers of the /v1 routes, and
// the desk's vocabulary they are written in (signup policies, protocols, statuses, outcomes, roles, languages).
// The server (AdminAPI, over the store) and the CLI share it, so the CLI knows the API without knowing the store:
// it imports neither ServiceDesk nor EmailChannel. Plain Codable values; no I/O, no database.
