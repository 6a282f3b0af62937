import Foundation
import Testing

/// deploy/: the Dockerfile's runtime stage replayed in a debootstrap bookworm chroot with the static release
/// binary, that binary's libraries against the image's packages, the unit's hardening against what the binary
/// does, and the paths and variables of both files against `postdesk serve --help` — all by
/// deploy/check-runtime.sh, which scripts/test.sh prepares (binary and cached root) before the tests.
@Suite("Deploy: container runtime stage and systemd unit", .serialized, .timeLimit(.minutes(10)))
struct DeployTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repository.appendingPathComponent("deploy/check-runtime.sh")

    /// Runs one part of the check script, with `environment` added; returns its status and all it printed.
    static func check(_ part: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, part]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A copy of a deploy/ file with `edit` applied, in a temporary directory.
    static func brokenCopy(of name: String, _ edit: (String) -> String) throws -> URL {
        let original = try String(contentsOf: repository.appendingPathComponent("deploy/\(name)"), encoding: .utf8)
        let changed = edit(original)
        #expect(changed != original, "the edit of \(name) changed nothing")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let copy = directory.appendingPathComponent(name)
        try changed.write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }

    @Test("the runtime stage in a bookworm chroot: serve as a non-root user, status, a stored project, HEALTHCHECK")
    func runtimeStage() throws {
        let result = try Self.check("runtime")
        #expect(result.status == 0, "\(result.output)")
        for line in [
            "ok: replayed the runtime stage on a copy of the minbase root (libsqlite3-0 ca-certificates tzdata installed)",
            "ok: postdesk serve (postdesk, ENTRYPOINT+CMD) opened its admin socket at /run/postdesk/admin.sock",
            "ok: postdesk status in the chroot answered: No mailboxes are running.",
            "ok: a project was stored in /var/lib/postdesk and listed back",
            "ok: HEALTHCHECK (postdesk status --check) exited 0: ok: 0 mailboxes running, no SMTP relay set",
            "completions for bash, zsh and fish, CA roots and time zones are in place",
            "ok: SIGTERM (STOPSIGNAL SIGTERM) stopped serve cleanly, its socket removed",
        ] {
            #expect(result.output.contains(line), "missing \"\(line)\" in:\n\(result.output)")
        }
        #expect(!result.output.contains("FAIL"))
    }

    @Test("ldd of the static release binary in that root lists only libraries of the Dockerfile's packages and base")
    func libraries() throws {
        let result = try Self.check("libraries")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("libsqlite3.so.0=libsqlite3-0"), "\(result.output)")
        #expect(result.output.contains("libc.so.6=libc6"), "\(result.output)")
        // The Swift runtime is inside the binary: no libswiftCore or libFoundation is loaded from anywhere.
        #expect(!result.output.contains("libswift"), "\(result.output)")
        #expect(!result.output.contains("libFoundation"), "\(result.output)")

        // Without libsqlite3-0 in the image the binary cannot load: the check says so.
        let withoutSQLite = try Self.brokenCopy(of: "Dockerfile") {
            $0.replacingOccurrences(of: "--no-install-recommends libsqlite3-0 ", with: "--no-install-recommends ")
        }
        let missing = try Self.check("libraries", environment: ["POSTDESK_DOCKERFILE": withoutSQLite.path])
        #expect(missing.status != 0)
        #expect(missing.output.contains("FAIL: libraries missing in the runtime root:"), "\(missing.output)")
        #expect(missing.output.contains("libsqlite3.so.0 => not found"), "\(missing.output)")
    }

    @Test("the variables and paths of the Dockerfile and the unit match serve's flags and each other")
    func pathsAndVariables() throws {
        let result = try Self.check("paths")
        #expect(result.status == 0, "\(result.output)")
        #expect(
            result.output.contains(
                "ok: every variable of the Dockerfile and the unit is a serve flag's: POSTDESK_DATA_DIR POSTDESK_SOCKET"
            ),
            "\(result.output)")
        #expect(result.output.contains("socket /run/postdesk/admin.sock (RuntimeDirectory)"), "\(result.output)")

        // A variable serve does not read, a socket outside the runtime directory, a stop timeout below the drain.
        let unknown = try Self.brokenCopy(of: "Dockerfile") {
            $0.replacingOccurrences(of: "POSTDESK_DATA_DIR=", with: "POSTDESK_DATA=")
        }
        let refused = try Self.check("paths", environment: ["POSTDESK_DOCKERFILE": unknown.path])
        #expect(refused.status != 0)
        #expect(
            refused.output.contains(
                "FAIL: POSTDESK_DATA is used in deploy/ but postdesk serve --help has no such variable"),
            "\(refused.output)")
        let elsewhere = try Self.brokenCopy(of: "postdesk.service") {
            $0.replacingOccurrences(
                of: "POSTDESK_SOCKET=/run/postdesk/admin.sock", with: "POSTDESK_SOCKET=/run/desk/admin.sock")
        }
        let moved = try Self.check("paths", environment: ["POSTDESK_UNIT": elsewhere.path])
        #expect(moved.status != 0)
        #expect(moved.output.contains("FAIL: the unit's POSTDESK_SOCKET and RuntimeDirectory"), "\(moved.output)")
        let hasty = try Self.brokenCopy(of: "postdesk.service") {
            $0.replacingOccurrences(of: "TimeoutStopSec=30s", with: "TimeoutStopSec=15s")
        }
        let short = try Self.check("paths", environment: ["POSTDESK_UNIT": hasty.path])
        #expect(short.status != 0)
        #expect(short.output.contains("FAIL: TimeoutStopSec=15s is not above"), "\(short.output)")
    }

    @Test("the unit passes systemd-analyze verify; postdesk keeps to its SystemCallFilter and MemoryDenyWriteExecute")
    func unitHardening() throws {
        let result = try Self.check("unit")
        #expect(result.status == 0, "\(result.output)")
        for line in [
            "ok: systemd-analyze verify deploy/postdesk.service: no warnings",
            "ok: postdesk serve ran, answered status --check and stopped cleanly under PR_SET_MDWE",
            "system calls postdesk made are in the unit's SystemCallFilter",
        ] {
            #expect(result.output.contains(line), "missing \"\(line)\" in:\n\(result.output)")
        }

        // A filter without the calls postdesk needs is caught.
        let narrow = try Self.brokenCopy(of: "postdesk.service") {
            $0.replacingOccurrences(of: "SystemCallFilter=@system-service", with: "SystemCallFilter=@basic-io")
        }
        let refused = try Self.check("unit", environment: ["POSTDESK_UNIT": narrow.path])
        #expect(refused.status != 0)
        #expect(
            refused.output.contains("FAIL: postdesk makes system calls its SystemCallFilter refuses:"),
            "\(refused.output)")
    }

    @Test("postdesk --version prints the version the server reports; bash, zsh and fish completions name commands")
    func versionAndCompletions() async throws {
        let desk = try PostdeskProcess()
        let version = try desk.run(["--version"], socket: false)
        #expect(version.status == 0)
        let printed = version.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil, "\(printed)")
        try await desk.start()
        struct Health: Decodable { var version: String? }
        #expect(try desk.json(Health.self, ["status"]).version == printed)
        try await desk.stop()

        for shell in ["bash", "zsh", "fish"] {
            let script = try desk.run(["--generate-completion-script", shell], socket: false)
            #expect(script.status == 0, "\(shell): \(script.err)")
            #expect(script.out.count > 500, "\(shell): \(script.out)")
            for word in ["serve", "status", "outbox", "--check"] {
                #expect(script.out.contains(word), "the \(shell) completion does not offer \(word)")
            }
        }
    }
}
