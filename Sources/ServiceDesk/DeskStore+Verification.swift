import Foundation

extension DeskStore {
    /// Starts a verification of a channel: a token the test email will carry.
    public func startVerification(channelAddress: String) async throws -> (token: String, channel: Channel) {
        let token = UUID().uuidString.lowercased()
        return try await write { db in
            guard
                let channelId = try Int64.fetchOne(
                    db, sql: "SELECT channelId FROM channelAddress WHERE address = ?",
                    arguments: [channelAddress.lowercased()]),
                let channel = try Channel.fetchOne(db, id: channelId)
            else { throw DeskError.notFound("no channel with address \(channelAddress)") }
            try db.execute(
                sql: "INSERT INTO verification (token, channelId, createdAt) VALUES (?, ?, ?)",
                arguments: [token, channelId, Date()])
            return (token, channel)
        }
    }

    /// Records what the relay said to the test email.
    public func recordVerificationSend(token: String, reply: String?, error: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE verification SET sendReply = ?, sendError = ? WHERE token = ?",
                arguments: [reply, error, token])
        }
    }

    /// The state of a verification.
    public func verification(token: String) async throws -> VerificationState {
        try await read { db in
            guard
                let row = try SQLRow.fetchOne(
                    db,
                    sql: """
                        SELECT verification.*, channel.address FROM verification
                        JOIN channel ON channel.id = verification.channelId WHERE token = ?
                        """, arguments: [token])
            else { throw DeskError.notFound("no verification \(token)") }
            return VerificationState(
                token: token, channelAddress: try row["address"], createdAt: try row["createdAt"],
                sendReply: try row["sendReply"], sendError: try row["sendError"], requestKey: try row["requestKey"])
        }
    }
}
