import LMTPServer
import ServiceDesk

/// A TCP address `serve` listens on: `--metrics-listen` (`GET /metrics`) and `--http-listen` (the web console).
/// `HOST:PORT`, e.g. `127.0.0.1:9464` or `[::1]:9464` (port 0 lets the system pick one, which the log names).
public struct TCPListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Reads `HOST:PORT` with the parser of `--lmtp-listen` (one host:port syntax for every flag); a Unix socket
    /// is not offered here.
    public init(parsing text: String) throws {
        guard case .tcp(let host, let port) = try? LMTPListenAddress(parsing: text) else {
            throw DeskError(.invalid, "\"\(text)\" is not HOST:PORT (e.g. 127.0.0.1:9464)")
        }
        self.host = host
        self.port = port
    }

    public var description: String { LMTPListenAddress.tcp(host: host, port: port).description }
}
