import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The web console in a real browser (issue 12): `Tests/Browser/console_test.py` drives headless Chromium through
/// chromedriver against the real binary's `--http-listen`, while real OpenSMTPD and Dovecot carry the customer's mail.
/// Screenshots of every step are kept in `.build/test-artifacts/console/`.
@Suite("Console in a browser: headless Chromium against the real server", .serialized, .timeLimit(.minutes(5)))
struct ConsoleBrowserTests {
    /// The checkout this file is in (Tests/EndToEndTests/ConsoleBrowserTests.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Tests/Browser/console_test.py")
    static let artifacts = repository.appendingPathComponent(".build/test-artifacts")

    /// The venv `scripts/install-deps.sh` makes: `$POSTDESK_BROWSER_VENV`, else `${XDG_CACHE_HOME:-$HOME/.cache}`
    /// `/postdesk/venv`.
    static var venv: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["POSTDESK_BROWSER_VENV"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let cache =
            environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return cache.appendingPathComponent("postdesk/venv")
    }

    static let install =
        "scripts/install-deps.sh (Debian chromium, chromium-driver and python3-venv; PyPI selenium in \(venv.path))"

    /// The venv's python, after checking that the browser, its driver and selenium are there; otherwise the
    /// failure names the command that installs them (the test never skips).
    static func python() throws -> URL {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        func onPath(_ name: String) -> Bool {
            path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
        var missing: [String] = []
        if !onPath("chromium") { missing.append("chromium") }
        if !onPath("chromedriver") { missing.append("chromedriver") }
        let python = venv.appendingPathComponent("bin/python")
        if !FileManager.default.isExecutableFile(atPath: python.path) {
            missing.append("the venv \(venv.path)")
        } else if try PostdeskProcess.outcome(of: makeProcess(python, ["-c", "import selenium"])).status != 0 {
            missing.append("selenium in \(venv.path)")
        }
        guard missing.isEmpty else {
            throw PostdeskTestError("missing \(missing.joined(separator: ", ")): run \(install)")
        }
        return python
    }

    static func makeProcess(_ executable: URL, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        return process
    }

    /// Runs console_test.py with `arguments` (stdout and stderr into one file, so its lines stay in order) and
    /// returns its status and output. The script's own time limit ends it 30 s before `timeout`, quitting its
    /// browsers; past `timeout` it gets SIGTERM (which it also turns into a failed step), 15 s later SIGKILL.
    static func runScript(_ arguments: [String], in directory: URL, timeout: Duration) async throws -> (
        status: Int32, output: String
    ) {
        let python = try python()
        let outputFile = directory.appendingPathComponent("console_test.out")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }
        let limit = max(timeout.components.seconds - 30, 10)
        let process = makeProcess(python, [script.path, "--time-limit", "\(limit)"] + arguments)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        var watchdog: Task<Void, Never>?
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let pid = process.processIdentifier
            watchdog = Task {
                // Cancelled once the script has ended, so a later process with the same pid is never hit.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                kill(pid, SIGTERM)
                guard (try? await Task.sleep(for: .seconds(15))) != nil else { return }
                kill(pid, SIGKILL)
            }
        }
        watchdog?.cancel()
        return (status, (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "")
    }

    /// Copies the screenshots to `.build/test-artifacts/NAME/` (replacing an earlier run's), where CI keeps them.
    static func keep(_ screenshots: URL, as name: String) {
        let destination = artifacts.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: destination)
        try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try? FileManager.default.copyItem(at: screenshots, to: destination)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test(
        "the tooling works: Chromium via chromedriver sees a row added without a reload, and sends Accept-Language ja")
    func tooling() async throws {
        let directory = try Self.temporaryDirectory("console-self-check")
        defer { try? FileManager.default.removeItem(at: directory) }
        let screenshots = directory.appendingPathComponent("screenshots")
        let run = try await Self.runScript(
            ["--self-check", "--screenshots", screenshots.path], in: directory, timeout: .seconds(120))
        Self.keep(screenshots, as: "console-self-check")
        #expect(run.status == 0, "console_test.py --self-check exited \(run.status):\n\(run.output)")
        #expect(run.output.contains("console_test: all 3 steps passed"), "\(run.output)")
        let shots = try FileManager.default.contentsOfDirectory(atPath: screenshots.path).filter {
            $0.hasSuffix(".png")
        }
        #expect(shots.count == 3, "screenshots: \(shots)")
    }

    /// Sign in, a mailed request in the queue without a reload, a reply the customer receives and answers into the
    /// thread, internal notes kept internal, hostile mail inert, a form without its CSRF token refused, Japanese; an
    /// agent has no admin pages, and an admin presses Test on the channel and sees its steps arrive.
    @Test(
        "an agent works a mailed request in the browser; hostile mail inert, forged forms refused; Japanese; admin Test"
    )
    func console() async throws {
        let directory = try Self.temporaryDirectory("console-browser")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Self.python()  // before starting anything: a machine without the tools fails at once, saying why
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let support = "support-\(tag)@desk.test"
        let customer = "carol-\(tag)@customer.test"
        try servers.addUser(support, password: "secret")
        try servers.addUser(customer, password: "carol-secret")

        let port = try freeLoopbackPort()
        let desk = try PostdeskProcess()
        try await desk.start(arguments: ["--http-listen", "127.0.0.1:\(port)"])
        func secret(_ name: String, _ value: String) throws -> String {
            let file = directory.appendingPathComponent(name)
            try "\(value)\n".write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        let mailboxPassword = try secret("mailbox.pw", "secret")
        try desk.createProject("SD", name: "Service Desk", signup: "public", requestType: "Get help")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", support,
        ])
        try desk.ok([
            "channel", "add", "SD", "--address", support, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "none", "--username", support, "--password-file", mailboxPassword,
            "--request-type", "Get help",
        ])
        let agentPassword = "ada-\(tag)-password"
        let japanesePassword = "hana-\(tag)-password"
        let adminPassword = "root-\(tag)-password"
        try desk.ok([
            "agent", "add", "agent@desk.test", "--name", "Ada Agent", "--role", "agent", "--password-file",
            try secret("agent.pw", agentPassword),
        ])
        try desk.ok([
            "agent", "add", "hana@desk.test", "--name", "花子", "--role", "agent", "--password-file",
            try secret("hana.pw", japanesePassword),
        ])
        try desk.ok([
            "agent", "add", "root@desk.test", "--name", "Root Admin", "--role", "admin", "--password-file",
            try secret("root.pw", adminPassword),
        ])

        let screenshots = directory.appendingPathComponent("screenshots")
        let run = try await Self.runScript(
            [
                "--base-url", "http://127.0.0.1:\(port)", "--smtp-port", "\(servers.smtpPort)", "--imap-port",
                "\(servers.imapPort)", "--support", support, "--customer", customer, "--customer-password",
                "carol-secret", "--agent", "agent@desk.test", "--agent-password", agentPassword, "--ja-agent",
                "hana@desk.test", "--ja-password", japanesePassword, "--admin", "root@desk.test", "--admin-password",
                adminPassword, "--screenshots", screenshots.path,
            ], in: directory, timeout: .seconds(240))
        Self.keep(screenshots, as: "console")
        try await desk.stop()
        #expect(
            run.status == 0,
            """
            console_test.py exited \(run.status) (screenshots in \(Self.artifacts.path)/console):
            \(run.output)
            server log (last 6000 characters):
            \(desk.serverLog.suffix(6000))
            """)
    }
}
