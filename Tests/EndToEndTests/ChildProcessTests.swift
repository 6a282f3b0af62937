import Foundation
import Testing

@testable import MailServerHarness

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The harness's child processes inherit no descriptor but standard input, output and error")
struct ChildProcessTests {
    /// What /proc says a descriptor of this process is, e.g. `pipe:[123]`.
    static func target(of fd: Int32, in pid: pid_t = getpid()) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
    }

    @Test("a server started while the test process holds a pipe (not close-on-exec) does not hold it too")
    func noInheritedPipe() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { for fd in ends { close(fd) } }
        let pipeName = try #require(Self.target(of: ends[1]))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        let server = try ChildProcess.spawn(
            "/bin/sleep", ["30"], outputPath: scratch.appendingPathComponent("out").path)
        let held = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")) ?? [])
            .compactMap { Int32($0) }.compactMap { Self.target(of: $0, in: server.pid) }
        kill(server.pid, SIGKILL)
        _ = server.wait()
        #expect(!held.isEmpty, "the child's descriptors could not be read")
        #expect(!held.contains(pipeName), "\(held)")

        let listed = try ChildProcess.run("/bin/ls", ["-l", "/proc/self/fd"], scratchDirectory: scratch)
        let text = String(decoding: listed.stdout, as: UTF8.self)
        #expect(text.contains("/proc/"), "\(text)")
        #expect(!text.contains(pipeName), "\(text)")
    }
}
