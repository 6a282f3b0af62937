import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on 127.0.0.1 that is bound but not listening, so connecting to it is refused for as long as this
/// object holds it (unlike a stopped server's port, which the kernel may hand to someone else).
public final class ReservedLoopbackPort: @unchecked Sendable {
    /// The reserved port.
    public let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var closed = false

    /// Binds a free port on 127.0.0.1 without listening.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            throw MailServerHarnessError(.portClash, "socket() failed: \(String(cString: strerror(errno)))")
        }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw MailServerHarnessError(.portClash, "cannot bind 127.0.0.1:0: \(reason)")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { release() }

    /// Gives the port back. Idempotent.
    public func release() {
        let wasClosed = lock.withLock {
            defer { closed = true }
            return closed
        }
        if !wasClosed { close(fd) }
    }
}
