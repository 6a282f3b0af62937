import Foundation
import GRDB

extension DeskStore {
    /// Runs `body` on one read-only snapshot of the store's SQLite database, on the calling thread, which it blocks
    /// until `body` returns: for a tool that reads whole tables while it writes elsewhere in a transaction of its own
    /// (`postdesk store copy`, PostgresStore's `StoreCopy`). The SQL is the caller's, in SQLite's dialect; `body`'s
    /// own errors come out as they are. A store on PostgreSQL refuses.
    public func readSQLiteSnapshot<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        guard let writer else { throw Self.notOnThisBackend(#function) }
        do {
            return try writer.read { db in try body(SQLiteSession(db: db)) }
        } catch let error as DatabaseError {
            throw DeskError(.storage, "database read failed: \(error)")
        }
    }
}
