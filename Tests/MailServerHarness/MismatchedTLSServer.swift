import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real TLS server (`openssl s_server`) on 127.0.0.1 whose certificate names only `mail.example.test`: a client
/// that connects by IP and trusts `caFile` completes the handshake and must then refuse the certificate because it
/// does not name 127.0.0.1 (the hostname-mismatch case, without any DNS lookup).
public final class MismatchedTLSServer: @unchecked Sendable {
    /// The TLS port on 127.0.0.1.
    public let port: Int
    /// The server's self-signed certificate (PEM), to pass as the client's CA file.
    public let caFile: String
    /// The only name the certificate lists.
    public let certificateName = "mail.example.test"

    private let directory: URL
    private let process: ChildProcess
    private let lock = NSLock()
    private var stopped = false

    /// Generates the certificate and starts the server; waits until it accepts connections.
    public init() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("postdesk-tls-mismatch-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let generated = try ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mail.example.test",
                "-addext", "subjectAltName=DNS:mail.example.test", "-keyout", key, "-out", certificate,
            ],
            scratchDirectory: directory
        )
        guard generated.termination == .exited(0) else {
            throw MailServerHarnessError(.commandFailed, "openssl req failed: \(generated.stderr)")
        }
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let process = try ChildProcess.spawn(
                "/usr/bin/openssl",
                ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-www"],
                outputPath: directory.appendingPathComponent("s_server.log").path,
                newProcessGroup: true
            )
            if Self.waitUntilListening(port: port, process: process) {
                self.port = port
                self.caFile = certificate
                self.directory = directory
                self.process = process
                return
            }
            ProcessTable.terminate([.init(pid: process.pid, reap: { _ = process.poll() })], grace: .seconds(2))
            lastError = MailServerHarnessError(
                .startFailed, "openssl s_server did not listen on \(port); see \(directory.path)/s_server.log")
        }
        throw lastError ?? MailServerHarnessError(.startFailed, "openssl s_server did not start")
    }

    deinit { stop() }

    /// Stops the server and removes its files. Idempotent.
    public func stop() {
        let wasStopped = lock.withLock {
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        let process = self.process
        ProcessTable.terminate([.init(pid: process.pid, reap: { _ = process.poll() })], grace: .seconds(5))
        try? FileManager.default.removeItem(at: directory)
    }

    private static func waitUntilListening(port: Int, process: ChildProcess) -> Bool {
        for _ in 0..<200 {
            if process.poll() != nil { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return false }
            var address = loopbackAddress(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return true }
            usleep(25_000)
        }
        return false
    }
}
