import Foundation
import MailClients
import ServiceDesk

#if canImport(Glibc)
    import Glibc
#endif

/// Where a login that holds an OAuth 2.0 grant gets its access token.
public struct OAuthLogin: Sendable {
    public var keeper: OAuthTokenKeeper
    public var owner: OAuthGrantOwner
    /// Refresh even a token that looks fresh: the server refused the last one.
    public var forceRefresh: Bool

    public init(keeper: OAuthTokenKeeper, owner: OAuthGrantOwner, forceRefresh: Bool = false) {
        self.keeper = keeper
        self.owner = owner
        self.forceRefresh = forceRefresh
    }
}

/// Turns a channel's stored secret into login credentials: a password as it is, for OAuth 2 an
/// access token read anew at each login from a file or from a command's output, so that an
/// external refresher keeps it valid, or the access token of postdesk's own grant.
public enum MailboxCredentials {
    /// The credentials to log in with now.
    public static func resolve(username: String, secret: String, method: AuthMethod, oauth: OAuthLogin? = nil)
        async throws -> MailCredentials
    {
        switch method {
        case .oauth2App:
            guard let oauth else {
                throw EmailChannelError(
                    .credentialUnavailable, "this login holds an OAuth 2.0 grant, but no token keeper runs")
            }
            return .oauth2(
                username: username,
                accessToken: try await oauth.keeper.accessToken(for: oauth.owner, forceRefresh: oauth.forceRefresh))
        case .password:
            return MailCredentials(username: username, password: secret)
        case .oauth2File:
            guard let data = FileManager.default.contents(atPath: secret) else {
                throw EmailChannelError(.credentialUnavailable, "cannot read the OAuth 2 token file \(secret)")
            }
            return .oauth2(username: username, accessToken: try token(from: data, source: secret))
        case .oauth2Command:
            return .oauth2(username: username, accessToken: try await run(secret))
        }
    }

    static func token(from data: Data, source: String) throws -> String {
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: { $0.isNewline || $0 == "\u{1}" }) else {
            throw EmailChannelError(.credentialUnavailable, "the OAuth 2 token from \(source) is empty or not one line")
        }
        return token
    }

    /// How long the token command may run before it is killed.
    static let commandTimeout: TimeInterval = 30
    /// The most output read from the token command; a token is far shorter.
    static let commandOutputLimit = 64 << 10

    /// Runs the token command through /bin/sh and returns its first line, on a thread of its own
    /// so that waiting for it never blocks the concurrency pool. Foundation starts it as the leader
    /// of a process group of its own, so it and everything it started are killed together after
    /// `timeout`, when it prints more than `commandOutputLimit`, or when the caller is cancelled
    /// (server shutdown).
    static func run(_ command: String, timeout: TimeInterval = commandTimeout) async throws -> String {
        let process = Process()
        let launch = Launch()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result { try runBlocking(command, process: process, launch: launch, timeout: timeout) })
                }
            }
        } onCancel: {
            launch.cancel(process)
        }
    }

    /// Starting the command and cancelling it, one at a time: a cancel that comes before the start (a busy
    /// machine can take longer to get to it than the login waits) stops the start instead of being lost, and one
    /// that comes after kills what was started.
    private final class Launch: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false
        private var started = false

        func start(_ process: Process) throws {
            try lock.withLock {
                guard !cancelled else {
                    throw EmailChannelError(
                        .credentialUnavailable,
                        "the OAuth 2 token command was killed before it started: the login was cancelled")
                }
                do {
                    try process.run()
                } catch {
                    throw EmailChannelError(.credentialUnavailable, "cannot run the OAuth 2 token command: \(error)")
                }
                started = true
            }
        }

        func cancel(_ process: Process) {
            lock.withLock {
                cancelled = true
                if started { killGroup(of: process) }
            }
        }
    }

    /// Kills the command's whole process group (its pid: Foundation makes the child a group leader).
    private static func killGroup(of process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        if pid > 0 { kill(-pid, SIGKILL) }
        process.terminate()
    }

    private static func runBlocking(_ command: String, process: Process, launch: Launch, timeout: TimeInterval) throws
        -> String
    {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try launch.start(process)
        let timedOut = TimeoutFlag()
        let timer = DispatchWorkItem {
            timedOut.set()
            killGroup(of: process)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        defer { timer.cancel() }
        var data = Data()
        let reader = output.fileHandleForReading
        while data.count <= commandOutputLimit {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        if data.count > commandOutputLimit { killGroup(of: process) }
        process.waitUntilExit()
        if data.count > commandOutputLimit {
            throw EmailChannelError(
                .credentialUnavailable, "the OAuth 2 token command printed more than \(commandOutputLimit) bytes")
        }
        if timedOut.isSet {
            throw EmailChannelError(
                .credentialUnavailable, "the OAuth 2 token command ran longer than \(timeout) s and was killed")
        }
        guard process.terminationReason == .exit else {
            throw EmailChannelError(
                .credentialUnavailable, "the OAuth 2 token command was killed (signal \(process.terminationStatus))")
        }
        guard process.terminationStatus == 0 else {
            throw EmailChannelError(
                .credentialUnavailable, "the OAuth 2 token command exited with status \(process.terminationStatus)")
        }
        let firstLine = data.split(separator: UInt8(ascii: "\n")).first.map { Data($0) } ?? Data()
        return try token(from: firstLine, source: "the token command")
    }

    /// Set once by the timer, read by the reader thread.
    private final class TimeoutFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}
