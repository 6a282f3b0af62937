import Foundation
import HummingbirdBcrypt
import NIOPosix
import ServiceDesk

/// The rules and the hashing of agents' passwords, shared by the admin API and the console: bcrypt at cost 12,
/// computed on NIO's thread pool so that a sign-in never blocks the server's event loops.
public enum AgentPassword {
    /// The bcrypt cost (log2 of its rounds).
    public static let cost: UInt8 = 12
    /// The fewest characters a password may have.
    public static let minimumLength = 10
    /// bcrypt reads at most 72 bytes; a longer password would be cut silently, so it is refused.
    public static let maximumBytes = 72

    /// Refuses a password that breaks the rules, in words that never contain it.
    public static func check(_ password: String) throws {
        guard password.count >= minimumLength else {
            throw DeskError(.invalid, "a password has at least \(minimumLength) characters")
        }
        guard password.utf8.count <= maximumBytes else {
            throw DeskError(.invalid, "a password has at most \(maximumBytes) bytes (bcrypt's limit)")
        }
        // The C implementation reads a NUL-terminated string: a NUL would end the password early.
        guard !password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw DeskError(.invalid, "a password may not contain control characters")
        }
    }

    /// Checks and hashes a password.
    public static func hash(_ password: String) async throws -> String {
        try check(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches a stored bcrypt hash.
    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
