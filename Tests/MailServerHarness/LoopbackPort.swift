import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ports handed out by `freeLoopbackPort()` in this process, so two instances never get the same one.
private final class HandedOutPorts: @unchecked Sendable {
    static let shared = HandedOutPorts()
    private let lock = NSLock()
    private var ports: Set<Int> = []

    /// Records `port`; false when it was handed out before.
    func claim(_ port: Int) -> Bool {
        lock.withLock { ports.insert(port).inserted }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (found by binding port 0), never the same one twice
/// in one process.
///
/// Another process can still take it before the caller binds it; `MailServers.start()` retries on such a clash.
public func freeLoopbackPort() throws -> Int {
    for _ in 0..<100 {
        let port = try probeFreePort()
        if HandedOutPorts.shared.claim(port) { return port }
    }
    throw MailServerHarnessError(.portClash, "no free port on 127.0.0.1 after 100 tries")
}

private func probeFreePort() throws -> Int {
    let bound = try bindLoopbackSocket(failure: .portClash)
    close(bound.fd)
    return bound.port
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, and that port; the caller owns (and closes) the
/// socket. `reuseAddress` sets SO_REUSEADDR first. Failures throw `failure` with the system's reason.
func bindLoopbackSocket(
    failure: MailServerHarnessError.Code, reuseAddress: Bool = false
) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else {
        throw MailServerHarnessError(failure, "socket() failed: \(String(cString: strerror(errno)))")
    }
    if reuseAddress {
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named =
        bound == 0
        ? withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        } : -1
    guard bound == 0, named == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw MailServerHarnessError(failure, "cannot bind 127.0.0.1:0: \(reason)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// `127.0.0.1:port` as a `sockaddr_in`.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
}

/// The first line a server sends on `127.0.0.1:port` (without CRLF), or nil when nothing accepts there or
/// nothing arrives within `timeout`.
func readBanner(port: Int, timeout: Duration = .seconds(2)) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let components = timeout.components
    var interval = timeval(
        tv_sec: Int(components.seconds),
        tv_usec: Int(components.attoseconds / 1_000_000_000_000)
    )
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 512)
    while received.count < 4096 {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        received.append(contentsOf: buffer[0..<count])
        if let newline = received.firstIndex(of: 0x0A) {
            return String(decoding: received[..<newline], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
    return nil
}
