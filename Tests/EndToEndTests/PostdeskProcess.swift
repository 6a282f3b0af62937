import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `postdesk` binary, run exactly as a user would: `serve` in the background and the
/// admin commands one by one.
final class PostdeskProcess: @unchecked Sendable {
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["POSTDESK_BINARY"] { return URL(fileURLWithPath: path) }
        // The test bundle lives next to the products in .build/<triple>/debug.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("postdesk")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("postdesk")
    }

    let dataDirectory: URL
    var socket: String { dataDirectory.appendingPathComponent("admin.sock").path }
    private var server: Process?
    private let logFile: URL
    /// Further `serve` options, e.g. a lower rate limit.
    private let extraArguments: [String]

    /// A server on `dataDirectory` (a new temporary one unless given, e.g. one a restore filled).
    init(extraArguments: [String] = [], dataDirectory: URL? = nil) throws {
        self.extraArguments = extraArguments
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("postdesk-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
        logFile = self.dataDirectory.appendingPathComponent("server.log")
    }

    /// Starts `postdesk serve` (with `arguments` added) and waits until its admin socket answers.
    func start(arguments extra: [String] = []) async throws {
        let process = Process()
        process.executableURL = Self.binary
        // Mailboxes without IDLE (POP3) are polled every second so that the tests need not wait a minute.
        process.arguments =
            [
                "serve", "--data-dir", dataDirectory.path, "--log-level", "debug", "--poll-seconds", "1",
                "--inbound-retry-seconds", "1",
            ] + extraArguments + extra
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        server = process
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: socket), try run(["project", "list"]).status == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PostdeskTestError("server did not open its socket; log:\n\(serverLog)")
    }

    /// Stops the server: SIGTERM for a clean shutdown, SIGKILL for a crash.
    func stop(signal: Int32 = SIGTERM) async throws {
        guard let server else { return }
        kill(server.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(20)
        while server.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            throw PostdeskTestError("server did not stop within 20 s after signal \(signal)")
        }
        self.server = nil
    }

    /// The running server's process id (to pause it with SIGSTOP), nil when it is not running.
    var processIdentifier: Int32? { server?.processIdentifier }

    var serverLog: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Runs one admin command against this server's socket.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, socket useSocket: Bool = true) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments + (useSocket ? ["--socket", socket] : [])
        return try Self.outcome(of: process, stdin: stdin)
    }

    /// Runs `process` to its end with `stdin` as its input, and returns its status and what it printed.
    static func outcome(of process: Process, stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Runs a command that must succeed and returns its output.
    @discardableResult
    func ok(_ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> String
    {
        let result = try run(arguments, stdin: stdin)
        #expect(
            result.status == 0, "postdesk \(arguments.joined(separator: " ")) failed: \(result.err)",
            sourceLocation: sourceLocation)
        return result.out
    }

    /// Creates a project with one request type fit for email (visible, required summary and description).
    func createProject(_ key: String, name: String, signup: String, requestType: String = "Help") throws {
        try ok(["project", "create", key, "--name", name, "--signup", signup])
        try ok([
            "request-type", "add", key, requestType, "--field", "summary:visible:required", "--field",
            "description:visible:required",
        ])
    }

    /// Runs a command with `--json` and decodes its output.
    func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) throws -> T {
        let result = try run(arguments + ["--json"])
        guard result.status == 0 else { throw PostdeskTestError("postdesk \(arguments) failed: \(result.err)") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(result.out.utf8))
    }

    /// Polls until `condition` returns a value or the timeout passes.
    func eventually<T>(
        _ what: String, timeout: Duration = .seconds(20), _ condition: () throws -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try condition() { return value }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PostdeskTestError("timed out waiting for \(what); server log:\n\(serverLog.suffix(4000))")
    }

    deinit {
        if let server, server.isRunning { kill(server.processIdentifier, SIGKILL) }
    }
}

struct PostdeskTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct QueueRow: Decodable {
    var key: String
    var summary: String
    var status: String
    var reporter: String
    var created: Date
}

struct RequestJSON: Decodable {
    struct CommentJSON: Decodable {
        var author: String
        var body: String
        var `public`: Bool
        var source: String
    }
    var key: String
    var summary: String
    var description: String
    var status: String
    var reporter: String
    var comments: [CommentJSON]
}

struct LogRow: Decodable {
    var time: Date
    var channel: String
    var from: String?
    var subject: String?
    var outcome: String
    var request: String?
    var detail: String?
    var inbound: Int64?
}

extension PostdeskProcess {
    /// `GET path` on the admin socket, as `curl --unix-socket` does it (DESIGN.md §4): for reads too
    /// large or too many for one CLI process each, e.g. the whole processing log. Throws unless the
    /// answer is 200.
    func get(_ path: String) throws -> Data {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostdeskTestError("socket(AF_UNIX) failed") }
        defer { close(fd) }
        LoopbackSocket.setReceiveTimeout(fd, seconds: 60)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socket.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw PostdeskTestError("socket path too long: \(socket)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw PostdeskTestError("cannot connect to \(socket)") }
        // RFC 9112 §9.6: "Connection: close" has the server close after the answer, which ends it.
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        try LoopbackSocket.send(request, to: fd, what: socket)
        let answer = try LoopbackSocket.readToEnd(fd, what: "GET \(path)")
        return try Self.body(ofHTTPAnswer: answer, path: path)
    }

    /// Decodes the JSON answer of `GET path`, as `json(_:_:)` decodes a command's `--json` output.
    func getJSON<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: try get(path))
    }

    /// The body of an HTTP/1.1 answer (RFC 9112 §6), de-chunked when it is sent in chunks (§7.1).
    private static func body(ofHTTPAnswer answer: [UInt8], path: String) throws -> Data {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = answer.indices.first(where: { answer[$0...].starts(with: separator) }) else {
            throw PostdeskTestError("GET \(path): no complete HTTP header in the answer")
        }
        let head = String(decoding: answer[..<end], as: UTF8.self).lowercased()
        let body = Array(answer[(end + 4)...])
        guard head.hasPrefix("http/1.1 200") else {
            throw PostdeskTestError(
                "GET \(path): \(head.prefix { $0 != "\r" }) \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        guard head.contains("transfer-encoding: chunked") else { return Data(body) }
        var data = Data()
        var position = 0
        while let lineEnd = body[position...].indices.first(where: { body[$0...].starts(with: [13, 10]) }) {
            let sizeText = String(decoding: body[position..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { break }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= body.count else { break }
            data.append(contentsOf: body[start..<(start + size)])
            position = start + size + 2
            guard position <= body.count else { break }
        }
        return data
    }
}
