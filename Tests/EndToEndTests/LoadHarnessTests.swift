import Foundation
import Testing

/// The load harness (Benchmarks/load/loadtest.py) at CI size against the debug binary: it must keep working, and
/// what it measures must hold (every mail one request; fetchmail saw the same mail). The figures themselves are
/// only checked for being figures; the real runs are in docs/BENCHMARKS.md.
@Suite("LoadHarness: loadtest.py runs link, drain, idle and resources on a tiny Dovecot", .serialized)
struct LoadHarnessTests {
    /// Benchmarks/load/loadtest.py in this checkout (this file is Tests/EndToEndTests/LoadHarnessTests.swift).
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Benchmarks/load/loadtest.py")

    /// Runs the harness and returns its JSON records by scenario; throws with its stderr when it fails.
    static func runHarness(_ arguments: [String]) async throws -> [String: [String: Any]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loadtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stdoutFile = directory.appendingPathComponent("stdout")
        let stderrFile = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, "--postdesk", PostdeskProcess.binary.path] + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let output = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw PostdeskTestError("loadtest.py exited \(status):\n\(errors.suffix(4000))\n\(output.suffix(2000))")
        }
        var records: [String: [String: Any]] = [:]
        for line in output.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let scenario = object["scenario"] as? String
            else { throw PostdeskTestError("loadtest.py printed a line that is not a JSON record: \(line)") }
            records[scenario] = object
        }
        return records
    }

    /// A positive, finite number in a record (JSON numbers arrive as NSNumber).
    static func positive(_ record: [String: Any]?, _ key: String) -> Bool {
        guard let value = (record?[key] as? NSNumber)?.doubleValue else { return false }
        return value.isFinite && value > 0
    }

    static func integer(_ record: [String: Any]?, _ key: String) -> Int? {
        (record?[key] as? NSNumber)?.intValue
    }

    @Test(
        "3 mailboxes × 5 mails drained after linking: 15 requests exactly once, fetchmail fetched 15, idle latency and resources measured",
        .timeLimit(.minutes(3)))
    func tinyRun() async throws {
        let records = try await Self.runHarness([
            "--scenario", "link,drain,idle,resources", "--n", "3", "--mails", "5", "--idle-mails", "4", "--rate",
            "8", "--cpu-seconds", "2", "--settle-seconds", "0", "--timeout", "90",
        ])
        let link = records["link"]
        #expect(Self.integer(link, "linked") == 3)
        #expect(Self.positive(link, "seconds") && Self.positive(link, "per_second"))

        let drain = records["drain"]
        #expect(Self.integer(drain, "total") == 15)
        #expect(Self.integer(drain, "inbound_rows") == 15)
        #expect(Self.integer(drain, "created") == 15)
        #expect(Self.integer(drain, "distinct_request_keys") == 15)
        #expect(Self.integer(drain, "requests") == 15)
        #expect(Self.integer(drain, "duplicates") == 0)
        #expect(drain?["exactly_once"] as? Bool == true)
        #expect(Self.positive(drain, "seconds") && Self.positive(drain, "per_second"))
        // CPU is read in clock ticks (10 ms): 15 mails can take less than one, so 0 is a valid reading here.
        #expect((drain?["cpu_ms_per_mail"] as? NSNumber).map { $0.doubleValue >= 0 } == true)
        #expect(Self.positive(drain, "peak_rss_mib"))

        let fetchmail = records["fetchmail"]
        #expect(Self.integer(fetchmail, "fetched") == 15)
        #expect(Self.positive(fetchmail, "per_second"))

        let idle = records["idle"]
        #expect(Self.integer(idle, "received") == 4)
        for key in ["p50_s", "p95_s", "p99_s", "max_s"] {
            #expect(Self.positive(idle, key), "idle \(key)")
        }
        // IDLE intake is push: even a debug build under load commits well within the 60 s poll interval.
        #expect(((idle?["max_s"] as? NSNumber)?.doubleValue ?? .infinity) < 30)

        let resources = records["resources"]
        #expect(Self.integer(resources, "idle_channels") == 3)
        #expect(Self.positive(resources, "rss_mib"))
        #expect((resources?["cpu_percent_of_one_core"] as? NSNumber).map { $0.doubleValue >= 0 } == true)
    }
}
