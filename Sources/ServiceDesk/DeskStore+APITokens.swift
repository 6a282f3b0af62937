import Foundation

extension DeskStore {
    /// The prefix of every API token, so that a leaked one is recognisable (and found by secret scanners).
    public static let apiTokenPrefix = "pd_"

    /// Creates a token; the answer holds the only copy of its secret.
    public func createAPIToken(name: String, role: AgentRole, now: Date = Date()) async throws -> (
        token: APIToken, secret: String
    ) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(name.count), name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }) else {
            throw DeskError.invalid("a token's name is 1–64 printable characters without spaces")
        }
        let generated = AgentToken.generate()
        let secret = Self.apiTokenPrefix + generated.token
        let hash = AgentToken.hash(secret)
        try await write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM apiToken WHERE lower(name) = lower(?))", arguments: [name])
                == true
            {
                throw DeskError.conflict("a token named \(name) exists; revoke it first or choose another name")
            }
            try db.execute(
                sql: "INSERT INTO apiToken (name, role, tokenHash, createdAt) VALUES (?, ?, ?, ?)",
                arguments: [name, role.rawValue, hash, now])
        }
        return (APIToken(name: name, role: role, createdAt: now, lastUsedAt: nil), secret)
    }

    /// Every token, by name; never a secret.
    public func apiTokens() async throws -> [APIToken] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT name, role, createdAt, lastUsedAt FROM apiToken ORDER BY name").map {
                try Self.apiToken($0)
            }
        }
    }

    /// Revokes a token: its next request is refused.
    public func revokeAPIToken(name: String) async throws {
        try await write { db in
            guard try db.execute(sql: "DELETE FROM apiToken WHERE lower(name) = lower(?)", arguments: [name]) > 0
            else {
                throw DeskError.notFound("no API token named \(name); postdesk token list shows them")
            }
        }
    }

    /// The token whose secret this is, marked used now (at most once a minute, to spare the writer); nil when unknown.
    public func apiToken(secret: String, now: Date = Date()) async throws -> APIToken? {
        guard secret.hasPrefix(Self.apiTokenPrefix), secret.utf8.count <= 128 else { return nil }
        let hash = AgentToken.hash(secret)
        guard
            let token = try await read({ db in
                try SQLRow.fetchOne(
                    db, sql: "SELECT name, role, createdAt, lastUsedAt FROM apiToken WHERE tokenHash = ?",
                    arguments: [hash]
                ).map { try Self.apiToken($0) }
            })
        else { return nil }
        if (token.lastUsedAt.map { now.timeIntervalSince($0) > 60 }) ?? true {
            try await write { db in
                try db.execute(sql: "UPDATE apiToken SET lastUsedAt = ? WHERE tokenHash = ?", arguments: [now, hash])
            }
        }
        return token
    }

    private static func apiToken(_ row: SQLRow) throws -> APIToken {
        APIToken(
            name: try row.decode(forColumn: "name"), role: try row.decode(forColumn: "role"),
            createdAt: try row.decode(forColumn: "createdAt"), lastUsedAt: try row.decode(forColumn: "lastUsedAt"))
    }
}
