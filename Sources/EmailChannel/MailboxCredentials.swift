import Foundation
import MailClients
import ServiceDesk

/// Turns a channel's stored secret into login credentials: a password as it is, or for OAuth 2 an
/// access token read anew at each login from a file or from a command's output, so that an
/// external refresher keeps it valid.
public enum MailboxCredentials {
    /// The credentials to log in with now.
    public static func resolve(username: String, secret: String, method: String) async throws -> MailCredentials {
        switch method {
        case "password":
            return MailCredentials(username: username, password: secret)
        case "oauth2-file":
            guard let data = FileManager.default.contents(atPath: secret) else {
                throw DeskError(.invalid, "cannot read the OAuth 2 token file \(secret)")
            }
            return .oauth2(username: username, accessToken: try token(from: data, source: secret))
        case "oauth2-command":
            return .oauth2(username: username, accessToken: try await run(secret))
        default:
            throw DeskError(.invalid, "unknown authentication method \(method)")
        }
    }

    static func token(from data: Data, source: String) throws -> String {
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: { $0.isNewline || $0 == "\u{1}" }) else {
            throw DeskError(.invalid, "the OAuth 2 token from \(source) is empty or not one line")
        }
        return token
    }

    /// Runs the token command through /bin/sh and returns its first line, on a thread of its own
    /// so that waiting for it never blocks the concurrency pool.
    static func run(_ command: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(command) })
            }
        }
    }

    private static func runBlocking(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DeskError(.invalid, "cannot run the OAuth 2 token command: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DeskError(.invalid, "the OAuth 2 token command exited with status \(process.terminationStatus)")
        }
        let firstLine = data.split(separator: UInt8(ascii: "\n")).first.map { Data($0) } ?? Data()
        return try token(from: firstLine, source: "the token command")
    }
}
