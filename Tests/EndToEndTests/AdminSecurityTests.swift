import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 8 §5 through the real binary: who may use the admin socket (peer credentials, the admin
/// group), what `serve` does with whatever already sits at the socket path, where the secret key
/// lives, and plaintext relays. The tests run as root; other users come from `setpriv`.
/// Serialized like the other end-to-end suites: a server spawned while another test's CLI runs
/// inherits that CLI's output pipe, and the test then never sees end-of-file.
@Suite("Admin socket, socket path and secret key, end to end", .serialized, .timeLimit(.minutes(3)))
struct AdminSecurityTests {
    /// A program run to its end, or killed after its time ran out.
    struct Finished {
        var status: Int32
        var out: String
        var err: String
        var timedOut: Bool
    }

    /// Runs a program with output in files (a chatty server cannot fill a pipe), killing it after `timeout`.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws
        -> Finished
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outFile = directory.appendingPathComponent("out")
        let errFile = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return Finished(
            status: process.terminationStatus,
            out: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
            err: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "", timedOut: timedOut)
    }

    /// Runs the postdesk binary as another user: `setpriv` with the given user, group and groups options.
    static func runAs(_ identity: [String], _ arguments: [String]) async throws -> Finished {
        try await run("/usr/bin/setpriv", identity + [PostdeskProcess.binary.path] + arguments)
    }

    static let nobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    static func fileInfo(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// A private temporary directory that other users may traverse.
    static func directory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
        return url
    }

    // MARK: Peer credentials

    @Test(
        "a peer that is not the server's user, root or an admin-group member is refused by its credentials, and logged")
    func refusedPeer() async throws {
        let desk = try PostdeskProcess()
        chmod(desk.dataDirectory.path, 0o755)
        try await desk.start()
        #expect(Self.fileInfo(desk.socket).map { $0.st_mode & 0o777 } == 0o600)
        // Open the socket to everyone, so that only the peer check stands between them and the API.
        #expect(chmod(desk.socket, 0o666) == 0)

        let refused = try await Self.runAs(Self.nobody, ["project", "list", "--socket", desk.socket])
        #expect(refused.status != 0)
        #expect(
            refused.err.contains("error: permission denied: uid 65534 may not use this admin socket; only root may"),
            "\(refused.err)")
        #expect(!refused.out.contains("KEY"))
        let log = try await desk.eventually("the refusal in the log") {
            desk.serverLog.contains("admin socket connection refused") ? desk.serverLog : nil
        }
        let line = log.split(separator: "\n").first { $0.contains("admin socket connection refused") } ?? ""
        #expect(line.contains("warning"))
        #expect(line.contains("peer.uid=65534"))
        #expect(line.contains("peer.gid=65534"))
        #expect(line.contains("peer.pid="))
        // Root and the server's own user are still served.
        try desk.ok(["project", "list"])
        try await desk.stop()
    }

    @Test("with the socket at 0600 another user cannot connect, and the CLI says permission denied")
    func ownerOnlySocket() async throws {
        let desk = try PostdeskProcess()
        chmod(desk.dataDirectory.path, 0o755)
        try await desk.start()
        let refused = try await Self.runAs(Self.nobody, ["project", "list", "--socket", desk.socket])
        #expect(refused.status != 0)
        #expect(refused.err.contains("permission denied on the admin socket \(desk.socket)"), "\(refused.err)")
        try await desk.stop()
    }

    @Test("with --admin-group the socket is 0660 in that group and a member by primary group is let in")
    func adminGroupMember() async throws {
        let desk = try PostdeskProcess()
        chmod(desk.dataDirectory.path, 0o755)
        try await desk.start(arguments: ["--admin-group", "nogroup"])
        let info = try #require(Self.fileInfo(desk.socket))
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_gid == 65534)

        let member = try await Self.runAs(
            Self.nobody, ["project", "create", "AG", "--name", "Group", "--socket", desk.socket])
        #expect(member.status == 0, "\(member.err)")
        #expect(try desk.ok(["project", "list"]).contains("AG"))
        #expect(!desk.serverLog.contains("admin socket connection refused"))
        try await desk.stop()
    }

    /// A user listed as a member of a group that is not its primary group, from /etc/group.
    static let supplementaryMember: (user: String, group: String)? = {
        guard let text = try? String(contentsOfFile: "/etc/group", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 4, let gid = UInt32(fields[2]) else { continue }
            for user in fields[3].split(separator: ",") where user != "root" {
                guard let entry = getpwnam(String(user)), entry.pointee.pw_gid != gid else { continue }
                return (String(user), String(fields[0]))
            }
        }
        return nil
    }()

    @Test(
        "with --admin-group a member through the group database's supplementary groups is let in",
        .enabled(if: supplementaryMember != nil, "needs a user with a supplementary group in /etc/group"))
    func supplementaryGroupMember() async throws {
        let (user, group) = try #require(Self.supplementaryMember)
        let desk = try PostdeskProcess()
        chmod(desk.dataDirectory.path, 0o755)
        try await desk.start(arguments: ["--admin-group", group])
        let member = try await Self.runAs(
            ["--reuid=\(user)", "--regid=\(user)", "--init-groups"], ["project", "list", "--socket", desk.socket])
        #expect(member.status == 0, "\(member.err)")
        try await desk.stop()
    }

    // MARK: What sits at the socket path

    @Test(
        "serve refuses a socket path that holds a file or a directory, and leaves it alone", arguments: [false, true])
    func notASocket(directoryAtPath: Bool) async throws {
        let base = try Self.directory("not-a-socket")
        let path = base.appendingPathComponent("admin.sock")
        let kept = Data("keep me\n".utf8)
        if directoryAtPath {
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: false)
            try kept.write(to: path.appendingPathComponent("inside"))
        } else {
            try kept.write(to: path)
        }
        let serve = try await Self.run(
            PostdeskProcess.binary.path,
            ["serve", "--data-dir", base.appendingPathComponent("data").path, "--socket", path.path])
        #expect(!serve.timedOut, "serve started on a path that is not a socket")
        #expect(serve.status != 0)
        #expect(serve.err.contains("\(path.path) exists and is not a socket"), "\(serve.err)")
        let remaining = directoryAtPath ? path.appendingPathComponent("inside") : path
        #expect(try Data(contentsOf: remaining) == kept)
    }

    @Test("serve refuses a socket another server listens on, and that server keeps answering")
    func liveSocket() async throws {
        let first = try PostdeskProcess()
        try await first.start()
        let identity = try #require(Self.fileInfo(first.socket))
        let other = try Self.directory("second-server")
        let serve = try await Self.run(
            PostdeskProcess.binary.path, ["serve", "--data-dir", other.path, "--socket", first.socket])
        #expect(!serve.timedOut, "a second server took over the live socket")
        #expect(serve.status != 0)
        #expect(serve.err.contains("another server is listening on \(first.socket)"), "\(serve.err)")
        #expect(Self.fileInfo(first.socket)?.st_ino == identity.st_ino)
        try first.ok(["project", "list"])
        try await first.stop()
    }

    @Test("a dead socket left by a killed server is replaced at the next start")
    func deadSocket() async throws {
        let desk = try PostdeskProcess()
        try await desk.start()
        try await desk.stop(signal: SIGKILL)
        let stale = try #require(Self.fileInfo(desk.socket))
        #expect(stale.st_mode & S_IFMT == S_IFSOCK)
        #expect(try desk.run(["project", "list"]).status != 0, "nobody listens on the stale socket")
        try await desk.start()
        try desk.ok(["project", "list"])
        try await desk.stop()
        #expect(Self.fileInfo(desk.socket) == nil, "a clean stop removes the server's own socket")
    }

    @Test("at shutdown the server removes only the socket it created, not one bound at its path since")
    func shutdownKeepsForeignSocket() async throws {
        let desk = try PostdeskProcess()
        try await desk.start()
        #expect(unlink(desk.socket) == 0)
        let listener = try ListeningSocket(path: desk.socket)
        defer {
            listener.close()
            unlink(desk.socket)
        }
        let ours = try #require(Self.fileInfo(desk.socket))
        try await desk.stop()
        let after = try #require(
            Self.fileInfo(desk.socket), "the server removed a socket it did not create: \(desk.serverLog.suffix(3000))")
        #expect(after.st_ino == ours.st_ino)
        #expect(desk.serverLog.contains("now holds another file; left in place"), "\(desk.serverLog.suffix(3000))")
    }

    // MARK: Secret key

    @Test(
        "serve --secret-key-file keeps the key outside the data directory, and the stored password opens after a restart"
    )
    func keyOutsideDataDirectory() async throws {
        let servers = try await MailServers.shared()
        let help = "key-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(help, password: "secret")
        let keyDirectory = try Self.directory("keys")
        let key = keyDirectory.appendingPathComponent("postdesk.key")
        let desk = try PostdeskProcess()
        try await desk.start(arguments: ["--secret-key-file", key.path])
        try desk.createProject("SK", name: "Key", signup: "public")
        try desk.ok(
            [
                "channel", "add", "SK", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        #expect(try Data(contentsOf: key).count == 32)
        #expect(Self.fileInfo(key.path).map { $0.st_mode & 0o777 } == 0o600)
        #expect(!FileManager.default.fileExists(atPath: desk.dataDirectory.appendingPathComponent("secret.key").path))
        let names = try FileManager.default.contentsOfDirectory(atPath: desk.dataDirectory.path)
        #expect(!names.contains { $0.contains("key") }, "\(names)")

        try await desk.stop()
        try await desk.start(arguments: ["--secret-key-file", key.path])
        let test = try desk.run(["channel", "test", help])
        #expect(test.status == 0, "\(test.out)\(test.err)")
        #expect(!FileManager.default.fileExists(atPath: desk.dataDirectory.appendingPathComponent("secret.key").path))
        try await desk.stop()
    }

    @Test("an existing key the server's user cannot read stops the start and is not replaced")
    func unreadableKey() async throws {
        let data = try Self.directory("unreadable-key")
        let key = data.appendingPathComponent("secret.key")
        let bytes = Data((0..<32).map { UInt8($0) })
        try bytes.write(to: key)
        chmod(key.path, 0o600)
        // The data directory belongs to the server's user; the key stays root's.
        #expect(chown(data.path, 65534, 65534) == 0)
        let serve = try await Self.runAs(Self.nobody, ["serve", "--data-dir", data.path])
        #expect(!serve.timedOut, "the server started with a fresh key")
        #expect(serve.status != 0)
        #expect(serve.err.contains("secret key file \(key.path) cannot be read: Permission denied"), "\(serve.err)")
        #expect(try Data(contentsOf: key) == bytes)
        #expect(Self.fileInfo(key.path)?.st_uid == 0)
    }

    // MARK: Plaintext

    @Test("smtp set --tls none to a relay elsewhere needs --insecure-plaintext, and status flags it")
    func plaintextRelay() async throws {
        let desk = try PostdeskProcess()
        try await desk.start()
        // A .invalid name never resolves (RFC 6761 §6.4); nothing is sent while the outbox is empty.
        let relay = [
            "smtp", "set", "--host", "relay.example.invalid", "--port", "25", "--tls", "none", "--from",
            "help@desk.test",
        ]
        let refused = try desk.run(relay)
        #expect(refused.status != 0)
        #expect(refused.err.contains("--insecure-plaintext"), "\(refused.err)")
        #expect(try desk.json(PlaintextHealth.self, ["status"]).plaintext.isEmpty)

        // The relay test cannot reach a .invalid host: saved anyway, as an admin preparing a relay would.
        try desk.ok(relay + ["--insecure-plaintext", "--save-anyway"])
        let flagged = try desk.json(PlaintextHealth.self, ["status"]).plaintext
        #expect(
            flagged == [
                "SMTP relay relay.example.invalid:25 (tls none): plaintext: passwords and mail cross the network unencrypted"
            ])
        #expect(try desk.ok(["status"]).contains("Warning: SMTP relay relay.example.invalid:25 (tls none): plaintext"))
        try await desk.stop()
    }

    struct PlaintextHealth: Decodable {
        var plaintext: [String]
    }
}

/// A Unix-domain socket the test binds and listens on itself.
struct ListeningSocket {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard descriptor >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw PostdeskTestError("cannot make a socket for \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(descriptor, 4) == 0 else {
            throw PostdeskTestError("cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
