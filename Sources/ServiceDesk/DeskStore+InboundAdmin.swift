import Foundation

/// Which stored mails an admin command acts on.
public enum InboundSelection: Sendable, Equatable {
    /// One inbound mail.
    case id(Int64)
    /// Every mail from this sender (held mails: release or drop a sender at once).
    case sender(String)
    /// Every mail with the outcome the command acts on.
    case all
}

extension DeskStore {
    /// Sets failed (or quarantined) mails back to pending with fresh attempts; returns their ids,
    /// for the router to process now.
    public func retryFailed(_ selection: InboundSelection) async throws -> [Int64] {
        try await reopen(selection, outcome: .failed, exempt: false)
    }

    /// Releases mails held by the rate breaker: they are processed without it; returns their ids.
    public func releaseHeld(_ selection: InboundSelection) async throws -> [Int64] {
        try await reopen(selection, outcome: .held, exempt: true)
    }

    /// Drops mails held by the rate breaker: they stay stored, logged as ignored; returns their ids.
    public func dropHeld(_ selection: InboundSelection) async throws -> [Int64] {
        try await write { db in
            let ids = try Self.select(selection, outcome: .held, in: db)
            for id in ids {
                try db.execute(
                    sql: "UPDATE inbound SET outcome = ?, detail = ? WHERE id = ?",
                    arguments: [InboundOutcome.ignored, "dropped by an admin after the rate limit held it", id])
            }
            return ids
        }
    }

    private func reopen(_ selection: InboundSelection, outcome: InboundOutcome, exempt: Bool) async throws -> [Int64] {
        let claims = processingClaims
        return try await write { db in
            let ids = try Self.select(selection, outcome: outcome, in: db)
            for id in ids {
                try claims?.clear(inboundId: id, in: db)
                try db.execute(
                    sql: """
                        UPDATE inbound SET processedAt = NULL, outcome = NULL, detail = NULL, attempts = 0,
                                           rateExempt = CASE WHEN ? = 1 THEN 1 ELSE rateExempt END
                        WHERE id = ?
                        """,
                    arguments: [exempt, id])
            }
            return ids
        }
    }

    private static func select(_ selection: InboundSelection, outcome: InboundOutcome, in db: any SQLSession) throws
        -> [Int64]
    {
        switch selection {
        case .id(let id):
            guard
                let found = try InboundOutcome.fetchOne(
                    db, sql: "SELECT outcome FROM inbound WHERE id = ?", arguments: [id])
            else {
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM inbound WHERE id = ?)", arguments: [id])
                    == true
                {
                    throw DeskError.invalid("inbound mail \(id) is still pending, not \(outcome.rawValue)")
                }
                throw DeskError.notFound("no inbound mail \(id)")
            }
            guard found == outcome else {
                throw DeskError.invalid("inbound mail \(id) is \(found.rawValue), not \(outcome.rawValue)")
            }
            return [id]
        case .sender(let sender):
            return try Int64.fetchAll(
                db, sql: "SELECT id FROM inbound WHERE outcome = ? AND fromAddress = ? ORDER BY id",
                arguments: [outcome, sender.lowercased()])
        case .all:
            return try Int64.fetchAll(
                db, sql: "SELECT id FROM inbound WHERE outcome = ? ORDER BY id", arguments: [outcome])
        }
    }
}
