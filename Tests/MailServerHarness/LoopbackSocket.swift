import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking sockets for tests that speak to a server directly: TCP to 127.0.0.1, sending everything, and reading
/// an answer to its end (a server that closes after it, as `Connection: close` asks, RFC 9112 §9.6).
public enum LoopbackSocket {
    /// A socket call that failed, with what it was talking to.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// A connected TCP socket to 127.0.0.1:`port` whose reads give up after `timeoutSeconds`.
    public static func connect(port: Int, timeoutSeconds: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket(AF_INET) failed") }
        setReceiveTimeout(fd, seconds: timeoutSeconds)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure("nothing accepts on 127.0.0.1:\(port)")
        }
        return fd
    }

    public static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `bytes`; `what` names the peer in the error.
    public static func send(_ bytes: [UInt8], to fd: Int32, what: String) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure("send to \(what) failed") }
            sent += count
        }
    }

    /// Reads until the peer closes.
    public static func readToEnd(_ fd: Int32, what: String) throws -> [UInt8] {
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return answer }
            guard count > 0 else { throw Failure("reading \(what) failed or timed out") }
            answer.append(contentsOf: chunk[0..<count])
        }
    }
}
