import Foundation
import MailServerHarness
import Testing

@testable import postdesk

/// Configuration and logs through the real binary: `serve --print-config` with a config file, the environment and
/// flags; a bad configuration stopping the start; and `--log-format json` at info level while a real mail becomes a
/// request, with no address, subject or body in the log.
@Suite("Serve configuration and logs, end to end", .serialized, .timeLimit(.minutes(3)))
struct ServeConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `postdesk serve` with `arguments` and only `environment` of the POSTDESK_ variables (none of the
    /// test runner's own leak in).
    static func serve(_ arguments: [String], environment: [String: String] = [:]) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = PostdeskProcess.binary
        process.arguments = ["serve"] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("POSTDESK_") }
            .merging(environment) { _, new in new }
        return try PostdeskProcess.outcome(of: process)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("--print-config names each value's source: flag, env, config FILE:LINE, default; and starts nothing")
    func printConfig() throws {
        let directory = try Self.temporaryDirectory()
        let data = directory.appendingPathComponent("data")
        let file = directory.appendingPathComponent("postdesk.conf")
        try """
        # a comment
        poll-seconds = 30
        sender-rate-limit = 9

        admin-group = support
        """.write(to: file, atomically: true, encoding: .utf8)
        let result = try Self.serve(
            ["--config", file.path, "--data-dir", data.path, "--log-format", "json", "--print-config"],
            environment: ["POSTDESK_POLL_SECONDS": "20", "POSTDESK_MAX_ATTEMPTS": "5"])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.count == ServeSetting.allCases.count + 1, "\(result.out)")
        func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + " = ") } ?? "no line for \(key)" }
        #expect(lines.first == "# config file: \(file.path) (flag --config)")
        #expect(line("data-dir").wholeMatch(of: /data-dir = (\S+) +\(flag --data-dir\)/)?.1 == Substring(data.path))
        #expect(line("log-format").wholeMatch(of: /log-format = json +\(flag --log-format\)/) != nil, "\(result.out)")
        #expect(line("poll-seconds").wholeMatch(of: /poll-seconds = 20 +\(env POSTDESK_POLL_SECONDS\)/) != nil)
        #expect(line("max-attempts").wholeMatch(of: /max-attempts = 5 +\(env POSTDESK_MAX_ATTEMPTS\)/) != nil)
        #expect(line("sender-rate-limit").hasSuffix("(config \(file.path):3)"), "\(result.out)")
        #expect(line("sender-rate-limit").hasPrefix("sender-rate-limit = 9 "))
        #expect(line("admin-group").hasSuffix("(config \(file.path):5)"))
        #expect(line("inbound-retry-seconds").wholeMatch(of: /inbound-retry-seconds = 30 +\(default\)/) != nil)
        #expect(line("socket").hasPrefix("socket = \(data.path)/admin.sock "))
        #expect(line("socket").hasSuffix("(default: DATA_DIR/admin.sock)"))
        #expect(line("lmtp-listen").hasSuffix("(default: not set)"))
        #expect(result.err.isEmpty, "\(result.err)")
        // Nothing started: no data directory, no socket.
        #expect(!FileManager.default.fileExists(atPath: data.path))

        // The file named by POSTDESK_CONFIG instead.
        let fromEnvironment = try Self.serve(
            ["--print-config"], environment: ["POSTDESK_CONFIG": file.path, "POSTDESK_DATA_DIR": data.path])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.err)")
        #expect(fromEnvironment.out.hasPrefix("# config file: \(file.path) (env POSTDESK_CONFIG)\n"))
        #expect(fromEnvironment.out.contains(/poll-seconds = 30 +\(config [^\n]*:2\)/))
        #expect(fromEnvironment.out.contains(/data-dir = \S+ +\(env POSTDESK_DATA_DIR\)/))
    }

    @Test("a bad value or an unknown key stops --print-config and serve alike, naming its source")
    func badConfiguration() throws {
        let directory = try Self.temporaryDirectory()
        let data = directory.appendingPathComponent("data")
        let file = directory.appendingPathComponent("typo.conf")
        try "log-level = debug\npol-seconds = 5\n".write(to: file, atomically: true, encoding: .utf8)
        for extra in [["--print-config"], []] {
            let result = try Self.serve(
                ["--config", file.path, "--data-dir", data.path] + extra,
                environment: ["POSTDESK_MAX_ATTEMPTS": "abc"])
            #expect(result.status != 0)
            #expect(result.out.isEmpty, "\(result.out)")
            #expect(
                result.err.contains(
                    "error: \(file.path):2: unknown setting \"pol-seconds\" (did you mean poll-seconds?)"),
                "\(result.err)")
            #expect(result.err.contains("error: POSTDESK_MAX_ATTEMPTS=abc: not a whole number"), "\(result.err)")
            #expect(!FileManager.default.fileExists(atPath: data.path), "serve started despite the errors")
        }
        let flag = try Self.serve(["--data-dir", data.path, "--lmtp-max-size", "0", "--print-config"])
        #expect(flag.status != 0)
        #expect(flag.err.contains("error: --lmtp-max-size 0: below the minimum of 1"), "\(flag.err)")
    }

    @Test("deploy/postdesk.conf.example lists every setting; uncommented, it is valid and its numbers are the defaults")
    func sampleFile() throws {
        let sample = Self.repository.appendingPathComponent("deploy/postdesk.conf.example")
        let text = try String(contentsOf: sample, encoding: .utf8)
        // As shipped (all commented out) it reads as an empty configuration.
        #expect(try ConfigFile<ServeSetting>(path: sample.path, text: text).entries.isEmpty)
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.wholeMatch(of: /# ([a-z-]+ = .*)/).map { String($0.1) } ?? String(line)
        }.joined(separator: "\n")
        let file = try ConfigFile<ServeSetting>(path: sample.path, text: uncommented)
        #expect(Set(file.entries.keys) == Set(ServeSetting.allCases))
        for setting in ServeSetting.allCases {
            if case .value(let value) = setting.row.fallback {
                #expect(file.entries[setting]?.value == value, "\(setting) in the sample")
            }
        }
        // And the binary takes it as it is.
        let checked = try Self.serve(["--config", sample.path, "--print-config"])
        #expect(checked.status == 0, "\(checked.err)")
    }

    @Test("--log-format json at info: every line of a real mail's intake is JSON, without address, subject or body")
    func jsonLogWithoutContent() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "jsonlog-\(tag)@desk.test"
        let customer = "carol-\(tag)@customer.test"
        let subjectWord = "Quokka\(UUID().uuidString.prefix(6))"
        let bodyWord = "Pangolin\(UUID().uuidString.prefix(6))"
        try servers.addUser(help, password: "secret")

        // The later --log-level wins over the harness's debug.
        let desk = try PostdeskProcess(extraArguments: ["--log-format", "json", "--log-level", "info"])
        try await desk.start()
        try desk.createProject("JL", name: "JSON log", signup: "public")
        try desk.ok(
            [
                "channel", "add", "JL", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        // Quotes, a tab and a line break in the subject (folded), for the escaping.
        let mail =
            "From: Carol <\(customer)>\r\nTo: \(help)\r\nSubject: \"\(subjectWord)\"\tlost\r\n  again\r\n"
            + "Message-ID: <jl-\(tag)@customer.test>\r\n\r\nMy \(bodyWord) printer says \"PC LOAD LETTER\".\r\n"
        try servers.deliver(Array(mail.utf8), to: help)
        let queue = try await desk.eventually("the request JL-1") {
            let rows = try desk.json([QueueRow].self, ["queue", "JL"])
            return rows.isEmpty ? nil : rows
        }
        #expect(queue.first?.summary.contains(subjectWord) == true)
        // The processing is logged by ids.
        _ = try await desk.eventually("the processing in the log") {
            desk.serverLog.contains("inbound mail processed") ? true : nil
        }
        try await desk.stop()

        let log = desk.serverLog
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count >= 3, "\(log)")
        #expect(log.hasSuffix("\n"))
        var messages: [String] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            guard let object else { continue }
            #expect(object["timestamp"] as? String != nil && object["level"] as? String != nil)
            #expect(object["metadata"] as? [String: String] != nil, "\(line)")
            #expect(["info", "notice", "warning", "error", "critical"].contains(object["level"] as? String ?? ""))
            if let message = object["message"] as? String { messages.append(message) }
            if object["message"] as? String == "inbound mail processed" {
                let metadata = object["metadata"] as? [String: String]
                #expect(metadata?["request.key"] == "JL-1", "\(line)")
                #expect(metadata?["outcome"] == "created", "\(line)")
            }
        }
        #expect(messages.contains("inbound mail processed"), "\(messages)")
        for secret in [customer, help, "Carol", subjectWord, bodyWord, "LOAD LETTER", "customer.test", "desk.test"] {
            #expect(!log.localizedCaseInsensitiveContains(secret), "\(secret) is in the log:\n\(log)")
        }
    }
}
