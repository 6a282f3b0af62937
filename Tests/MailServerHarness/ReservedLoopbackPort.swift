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
        let bound = try bindLoopbackSocket(failure: .portClash)
        self.fd = bound.fd
        self.port = bound.port
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
