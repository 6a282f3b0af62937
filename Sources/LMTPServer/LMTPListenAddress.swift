/// Where the LMTP listener accepts connections: a TCP address or a Unix-domain socket.
public enum LMTPListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// `HOST:PORT`, e.g. `127.0.0.1:2424` or `[::1]:2424`; port 0 lets the system pick one.
    case tcp(host: String, port: Int)
    /// `unix:PATH`.
    case unix(path: String)

    /// Reads `HOST:PORT` or `unix:PATH` (the `--lmtp-listen` syntax).
    public init(parsing text: String) throws {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard !path.isEmpty else { throw LMTPServerError(.invalidAddress, "unix: needs a socket path") }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw LMTPServerError(.invalidAddress, "\"\(text)\" is neither HOST:PORT nor unix:PATH")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw LMTPServerError(.invalidAddress, "\"\(text)\" has no host") }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}
