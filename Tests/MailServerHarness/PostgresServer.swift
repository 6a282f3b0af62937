import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for one test process: `initdb` in a temporary directory, listening on 127.0.0.1 on a
/// private port (TLS on, with a throw-away CA) and on a private Unix socket directory, stopped at process exit.
///
/// Tests connect as `user`/`password` over TCP (scram-sha-256, so a URL's password is checked for real) and make one
/// database each with `createDatabase()`. Needs Debian's `postgresql` package (`scripts/install-deps.sh`). Run as
/// root, the server runs as the `postgres` system user, since PostgreSQL refuses to run as root.
public final class PostgresServer: Sendable {
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The directory of the server's Unix socket (`.s.PGSQL.<port>`).
    public let socketDirectory: String
    /// The role the tests log in as (it may create databases).
    public let user = "postdesk"
    /// That role's password.
    public let password = "postdesk-test"
    /// PEM of the CA that signed the server's certificate (valid for 127.0.0.1 and localhost).
    public let caFile: String
    /// The server's log.
    public let log: String
    /// The instance's temporary directory, removed by `stop()`.
    public let baseDirectory: URL

    private let binaries: String
    private let dataDirectory: String
    private let state = ServerState()

    /// The running server process, guarded by one lock.
    private final class ServerState: @unchecked Sendable {
        let lock = NSLock()
        var process: ChildProcess?
        var stopped = false
    }

    private init(port: Int, base: URL, binaries: String) {
        self.port = port
        self.baseDirectory = base
        self.binaries = binaries
        socketDirectory = base.appendingPathComponent("run").path
        dataDirectory = base.appendingPathComponent("data").path
        caFile = base.appendingPathComponent("tls/ca.pem").path
        log = base.appendingPathComponent("postgres.log").path
    }

    // MARK: Start and stop

    /// One shared server per test process, started on first use; stopped at process exit.
    public static func shared() async throws -> PostgresServer {
        try await InstanceRegistry.shared.sharedPostgresServer()
    }

    /// A private server (for tests that stop it). Stopped by `stop()` or at process exit.
    public static func start() async throws -> PostgresServer {
        let binaries = try findBinaries()
        let attempts = 3
        for attempt in 1...attempts {
            let server = PostgresServer(port: try freeLoopbackPort(), base: try makeBaseDirectory(), binaries: binaries)
            InstanceRegistry.shared.register(server)
            do {
                try await server.launch()
                return server
            } catch let error as MailServerHarnessError where error.code == .portClash && attempt < attempts {
                server.stop()
            } catch {
                server.stop(removingDirectory: false)
                throw error
            }
        }
        throw MailServerHarnessError(.portClash, "PostgreSQL's ports kept clashing after \(attempts) attempts")
    }

    /// Stops the server (a fast shutdown, then SIGKILL) and removes `baseDirectory`. Idempotent.
    public func stop() {
        stop(removingDirectory: ProcessInfo.processInfo.environment["POSTDESK_KEEP_MAILSERVERS"] == nil)
    }

    private func stop(removingDirectory: Bool) {
        let process: ChildProcess? = state.lock.withLock {
            defer {
                state.stopped = true
                state.process = nil
            }
            return state.process
        }
        if let process {
            // SIGINT is PostgreSQL's fast shutdown: open sessions are ended, nothing is left to recover.
            kill(process.pid, SIGINT)
            let deadline = ContinuousClock.now + .seconds(10)
            while process.poll() == nil, ContinuousClock.now < deadline { usleep(10_000) }
            ProcessTable.terminate([.init(pid: process.pid, reap: { _ = process.poll() })], grace: .seconds(2))
        }
        InstanceRegistry.shared.unregister(self)
        if removingDirectory { try? FileManager.default.removeItem(at: baseDirectory) }
    }

    // MARK: Databases and URLs

    /// Makes an empty database owned by `user` and gives its name.
    public func createDatabase(prefix: String = "postdesk") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try psql("CREATE DATABASE \(name) OWNER \(user)")
        return name
    }

    /// Drops a database, ending its open sessions first.
    public func dropDatabase(_ name: String) throws {
        try psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// A `postgres://` URL of `database` on this server, with `sslmode` and further query items.
    /// `password` replaces the role's own (to test a refusal).
    public func url(
        database: String, sslmode: String = "disable", query: [String: String] = [:], password: String? = nil
    ) -> String {
        let items = (["sslmode": sslmode].merging(query) { _, new in new }).sorted { $0.key < $1.key }
        let password = password ?? self.password
        let encodedPassword = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "postgres://\(user):\(encodedPassword)@127.0.0.1:\(port)/\(database)?"
            + items.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// Runs one SQL command as the superuser over the Unix socket and gives psql's output.
    @discardableResult
    public func psql(_ command: String, database: String = "postgres") throws -> String {
        let output = try ChildProcess.run(
            "/usr/bin/psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", "\(port)", "-U",
                "postgres",
                "-d", database, "-c", command,
            ], scratchDirectory: scratch)
        guard output.termination == .exited(0) else {
            throw MailServerHarnessError(
                .commandFailed,
                "psql failed (\(output.termination)): \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    // MARK: Launch

    private var scratch: URL { baseDirectory.appendingPathComponent("scratch", isDirectory: true) }

    /// The newest `/usr/lib/postgresql/N/bin` that has `initdb` and `postgres`.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init)
        for version in versions.sorted(by: >) {
            let bin = "\(root)/\(version)/bin"
            if ["initdb", "postgres", "pg_ctl"].allSatisfy({
                FileManager.default.isExecutableFile(atPath: "\(bin)/\($0)")
            }), FileManager.default.isExecutableFile(atPath: "/usr/bin/psql") {
                return bin
            }
        }
        throw MailServerHarnessError(
            .notInstalled, "missing PostgreSQL (package postgresql): \(MailServerHarness.installHint)")
    }

    private static func makeBaseDirectory() throws -> URL {
        try MailServers.makeTemporaryDirectory(prefix: "postdesk-postgres-")
    }

    /// The command prefix that runs a server binary as `postgres` when this process is root.
    private func asServerUser(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard geteuid() == 0 else { return (executable, arguments) }
        // setpriv execs the program itself (no PAM session, no forked parent), so the pid is the server's.
        return (
            "/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable] + arguments
        )
    }

    private func launch() async throws {
        let manager = FileManager.default
        let tls = baseDirectory.appendingPathComponent("tls").path
        for directory in [scratch.path, socketDirectory, tls] {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try makeCertificates(in: tls)
        let passwordFile = baseDirectory.appendingPathComponent("superuser-password").path
        guard manager.createFile(atPath: passwordFile, contents: Data("unused-\(UUID().uuidString)\n".utf8)) else {
            throw MailServerHarnessError(.startFailed, "could not write \(passwordFile)")
        }
        if geteuid() == 0 {
            for path in [baseDirectory.path, socketDirectory, tls, passwordFile, scratch.path] + Self.files(in: tls) {
                try chownToServerUser(path)
            }
        }
        chmod(tls, 0o700)
        chmod("\(tls)/server.key", 0o600)

        let (initdb, initArguments) = asServerUser(
            "\(binaries)/initdb",
            [
                "-D", dataDirectory, "-U", "postgres", "--pwfile", passwordFile, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            ])
        let made = try ChildProcess.run(initdb, initArguments, scratchDirectory: scratch)
        guard made.termination == .exited(0) else {
            throw MailServerHarnessError(
                .startFailed,
                "initdb failed (\(made.termination)): \(made.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // TCP only on 127.0.0.1; the tests' sessions and three nodes' pools fit in 300 connections. fsync is off:
        // a test server's data is thrown away, and crash-safety is PostgreSQL's to prove, not ours.
        let (postgres, arguments) = asServerUser(
            "\(binaries)/postgres",
            [
                "-D", dataDirectory, "-p", "\(port)", "-k", socketDirectory, "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "ssl=on", "-c", "ssl_cert_file=\(tls)/server.pem",
                "-c", "ssl_key_file=\(tls)/server.key", "-c", "log_min_messages=warning",
            ])
        let process = try ChildProcess.spawn(postgres, arguments, outputPath: log, newProcessGroup: true)
        state.lock.withLock { state.process = process }
        try await waitUntilReady(process)
        try psql("CREATE ROLE \(user) LOGIN CREATEDB PASSWORD '\(password)'")
    }

    /// Waits for the server to take connections on its socket, or fails with the last lines of its log.
    private func waitUntilReady(_ process: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let ended = process.poll() {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                let code: MailServerHarnessError.Code =
                    text.contains("Address already in use") ? .portClash : .startFailed
                throw MailServerHarnessError(
                    code, "postgres ended (\(ended)) while starting; \(log): \(text.suffix(800))")
            }
            if (try? psql("SELECT 1")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw MailServerHarnessError(.timeout, "postgres did not take connections within 60 s; see \(log)")
    }

    /// A throw-away CA and a server certificate it signed, for 127.0.0.1 and localhost.
    private func makeCertificates(in directory: String) throws {
        let extensions = "\(directory)/server.ext"
        let text = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        guard FileManager.default.createFile(atPath: extensions, contents: Data(text.utf8)) else {
            throw MailServerHarnessError(.startFailed, "could not write \(extensions)")
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + key
                + [
                    "-keyout", "\(directory)/ca.key", "-out", caFile, "-days", "30", "-subj", "/CN=postdesk test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        try openssl(
            ["req", "-new"] + key
                + ["-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr", "-subj", "/CN=localhost"])
        try openssl([
            "x509", "-req", "-in", "\(directory)/server.csr", "-CA", caFile, "-CAkey", "\(directory)/ca.key",
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "30", "-extfile", extensions,
            "-out", "\(directory)/server.pem",
        ])
        chmod(caFile, 0o644)
    }

    private func openssl(_ arguments: [String]) throws {
        let output = try ChildProcess.run("/usr/bin/openssl", arguments, scratchDirectory: scratch)
        guard output.termination == .exited(0) else {
            throw MailServerHarnessError(
                .startFailed,
                "openssl \(arguments.prefix(2).joined(separator: " ")) failed (\(output.termination)): "
                    + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    private static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map { "\(directory)/\($0)" }
    }

    private func chownToServerUser(_ path: String) throws {
        guard let account = getpwnam("postgres") else {
            throw MailServerHarnessError(
                .notInstalled, "no postgres system user (package postgresql): \(MailServerHarness.installHint)")
        }
        guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
            throw MailServerHarnessError(
                .startFailed, "chown postgres \(path) failed: \(String(cString: strerror(errno)))")
        }
    }
}
