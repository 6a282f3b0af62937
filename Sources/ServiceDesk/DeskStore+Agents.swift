import Foundation

extension DeskStore {
    // MARK: Agent accounts

    /// Adds an agent; the address is normalised, and one already taken (in any case) is a conflict.
    /// `passwordHash` is a bcrypt hash made by the caller, or nil for an account that sets it by a one-time link.
    public func addAgent(email: String, name: String, role: AgentRole, passwordHash: String?) async throws -> Agent {
        guard let address = AddressNormalizer.normalize(email) else {
            throw DeskError.invalid("\"\(email)\" is not an email address")
        }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, !name.contains(where: \.isNewline) else {
            throw DeskError.invalid("an agent's name must be 1–200 characters on one line")
        }
        if let passwordHash, passwordHash.isEmpty { throw DeskError.invalid("the password hash is empty") }
        return try await write { db in
            if try AgentRecord.fetchOne(
                db, sql: "SELECT * FROM agent WHERE lower(email) = lower(?)", arguments: [address]) != nil
            {
                throw DeskError.conflict("an agent with the address \(address) already exists")
            }
            var record = AgentRecord(
                id: nil, email: address, name: name, role: role, disabled: false, locale: nil,
                passwordHash: passwordHash, createdAt: Date())
            try record.insert(db)
            // Read back, so the answer equals every later read (the column keeps milliseconds).
            guard let id = record.id, let stored = try AgentRecord.fetchOne(db, id: id) else {
                throw DeskError(.storage, "the new agent was not stored")
            }
            return try stored.agent()
        }
    }

    /// Every agent, by address.
    public func agents() async throws -> [Agent] {
        try await read { db in
            try AgentRecord.fetchAll(db, sql: "SELECT * FROM agent ORDER BY lower(email)").map { try $0.agent() }
        }
    }

    /// One agent, or nil when there is none with this id.
    public func agent(id: Int64) async throws -> Agent? {
        try await read { db in try AgentRecord.fetchOne(db, id: id)?.agent() }
    }

    /// Disables an agent (they can no longer sign in or be assigned) and ends their sessions and password links
    /// in the same transaction. Disabling a disabled agent changes nothing.
    public func disableAgent(email: String) async throws -> Agent {
        let address = AddressNormalizer.normalize(email) ?? email
        return try await write { db in
            guard
                var record = try AgentRecord.fetchOne(
                    db, sql: "SELECT * FROM agent WHERE lower(email) = lower(?)", arguments: [address]),
                let id = record.id
            else {
                throw DeskError.notFound("no agent with the address \(address); postdesk agent list shows them")
            }
            if !record.disabled {
                record.disabled = true
                try record.update(db)
            }
            try db.execute(sql: "DELETE FROM agentSession WHERE agentId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM passwordSetup WHERE agentId = ?", arguments: [id])
            return try record.agent()
        }
    }

    /// The agent with this address and their password hash, for a sign-in; nil when there is none. A disabled
    /// agent is returned too (with `disabled`): the caller refuses them.
    public func agentLogin(email: String) async throws -> (agent: Agent, passwordHash: String?)? {
        guard let address = AddressNormalizer.normalize(email) else { return nil }
        return try await read { db in
            guard
                let record = try AgentRecord.fetchOne(
                    db, sql: "SELECT * FROM agent WHERE lower(email) = lower(?)", arguments: [address])
            else {
                return nil
            }
            return (try record.agent(), record.passwordHash)
        }
    }

    /// Stores a new bcrypt hash for an agent; their outstanding password links are spent with it, and their console
    /// sessions end: a new password is often set because the old one leaked, and a session opened with it must not
    /// outlive it.
    public func setAgentPassword(agentId: Int64, passwordHash: String) async throws {
        guard !passwordHash.isEmpty else { throw DeskError.invalid("the password hash is empty") }
        try await write { db in
            guard
                try db.execute(
                    sql: "UPDATE agent SET passwordHash = ? WHERE id = ?", arguments: [passwordHash, agentId])
                    == 1
            else { throw DeskError.notFound("no agent with id \(agentId)") }
            try db.execute(sql: "DELETE FROM passwordSetup WHERE agentId = ?", arguments: [agentId])
            try db.execute(sql: "DELETE FROM agentSession WHERE agentId = ?", arguments: [agentId])
        }
    }

    /// Sets an agent's console language; nil goes back to the browser's Accept-Language.
    public func setAgentLocale(agentId: Int64, locale: ConsoleLocale?) async throws {
        try await write { db in
            guard try db.execute(sql: "UPDATE agent SET locale = ? WHERE id = ?", arguments: [locale, agentId]) == 1
            else { throw DeskError.notFound("no agent with id \(agentId)") }
        }
    }

    // MARK: One-time password links

    /// Stores a one-time password link (the SHA-256 of its token), replacing any earlier link of the agent.
    public func createPasswordSetup(agentId: Int64, tokenHash: Data, expiresAt: Date) async throws {
        try Self.checkTokenHash(tokenHash)
        try await write { db in
            guard let record = try AgentRecord.fetchOne(db, id: agentId) else {
                throw DeskError.notFound("no agent with id \(agentId)")
            }
            guard !record.disabled else { throw DeskError.invalid("agent \(record.email) is disabled") }
            try db.execute(sql: "DELETE FROM passwordSetup WHERE agentId = ?", arguments: [agentId])
            try PasswordSetupRecord(tokenHash: tokenHash, agentId: agentId, createdAt: Date(), expiresAt: expiresAt)
                .insertRow(db)
        }
    }

    /// The agent a password link is for, without spending it (to show the form); nil when it is unknown,
    /// spent, expired or the agent is disabled.
    public func passwordSetupAgent(tokenHash: Data, now: Date) async throws -> Agent? {
        try await read { db in try Self.passwordSetupAgent(tokenHash: tokenHash, now: now, in: db) }
    }

    /// Spends a password link: it works once, and not after it expired. Returns its agent, or nil when the link
    /// is unknown, spent, expired or the agent is disabled. An expired link is deleted too.
    public func consumePasswordSetup(tokenHash: Data, now: Date) async throws -> Agent? {
        try await write { db in
            let agent = try Self.passwordSetupAgent(tokenHash: tokenHash, now: now, in: db)
            try db.execute(sql: "DELETE FROM passwordSetup WHERE tokenHash = ?", arguments: [tokenHash])
            return agent
        }
    }

    private static func passwordSetupAgent(tokenHash: Data, now: Date, in db: any SQLSession) throws -> Agent? {
        guard
            let setup = try PasswordSetupRecord.fetchOne(
                db, sql: "SELECT * FROM passwordSetup WHERE tokenHash = ? AND expiresAt > ?",
                arguments: [tokenHash, now]),
            let record = try AgentRecord.fetchOne(db, id: setup.agentId), !record.disabled
        else { return nil }
        return try record.agent()
    }

    // MARK: Console sessions

    /// Stores a console session (the SHA-256 of its cookie token) with its CSRF token.
    public func createSession(agentId: Int64, tokenHash: Data, csrfToken: String, expiresAt: Date) async throws {
        try Self.checkTokenHash(tokenHash)
        guard !csrfToken.isEmpty else { throw DeskError.invalid("the CSRF token is empty") }
        try await write { db in
            guard let record = try AgentRecord.fetchOne(db, id: agentId) else {
                throw DeskError.notFound("no agent with id \(agentId)")
            }
            guard !record.disabled else { throw DeskError.invalid("agent \(record.email) is disabled") }
            try AgentSessionRecord(
                tokenHash: tokenHash, agentId: agentId, csrfToken: csrfToken, createdAt: Date(), expiresAt: expiresAt
            ).insertRow(db)
        }
    }

    /// The session a cookie's token hash names, with its agent; nil when it is unknown, expired, or its agent
    /// is disabled.
    public func session(tokenHash: Data, now: Date) async throws -> (
        agent: Agent, csrfToken: String, expiresAt: Date
    )? {
        try await read { db in
            guard
                let session = try AgentSessionRecord.fetchOne(
                    db, sql: "SELECT * FROM agentSession WHERE tokenHash = ? AND expiresAt > ?",
                    arguments: [tokenHash, now]),
                let record = try AgentRecord.fetchOne(db, id: session.agentId), !record.disabled
            else { return nil }
            return (try record.agent(), session.csrfToken, session.expiresAt)
        }
    }

    /// Ends one session (sign-out); an unknown one is no error.
    public func deleteSession(tokenHash: Data) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM agentSession WHERE tokenHash = ?", arguments: [tokenHash])
        }
    }

    /// Removes every session and password link that expired by `now`.
    public func deleteExpiredSessions(now: Date) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM agentSession WHERE expiresAt <= ?", arguments: [now])
            try db.execute(sql: "DELETE FROM passwordSetup WHERE expiresAt <= ?", arguments: [now])
        }
    }

    // Expiry is compared in SQL, where `now` is written with the milliseconds the column keeps: a comparison in
    // Swift, of a full-precision `now` with the rounded stored time, could keep a session up to half a
    // millisecond past its expiry and disagree with `deleteExpiredSessions`.

    /// A token hash is a SHA-256: 32 bytes.
    private static func checkTokenHash(_ hash: Data) throws {
        guard hash.count == 32 else { throw DeskError.invalid("a token hash is a SHA-256 of 32 bytes") }
    }
}
