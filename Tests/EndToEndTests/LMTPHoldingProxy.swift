import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy on 127.0.0.1 between OpenSMTPD's LMTP client and postdesk's `--lmtp-listen`: it forwards bytes both
/// ways and, on its first connection only, stops forwarding at one point of the LMTP exchange (RFC 2033 §4.2: DATA,
/// the server's 354, the message, its final dot, then one reply per recipient), so that a test can kill postdesk
/// exactly there. Later connections (the MTA's retry) pass through untouched.
final class LMTPHoldingProxy: @unchecked Sendable {
    /// Where the first connection stops.
    enum HoldPoint: Sendable {
        /// Inside DATA: after postdesk's 354, the message's first line reaches postdesk and the rest (with its final
        /// dot) is held, so postdesk is reading a message it never gets to the end of.
        case insideData
        /// After the final dot reached postdesk: its reply to it (the 250 of a committed mail) is held from the MTA.
        case beforeReply
    }

    /// How far the first connection got.
    enum Progress: Sendable, Equatable {
        case waiting
        /// Holding inside DATA; postdesk has had `forwardedMessageBytes` bytes of the message and no final dot.
        case holdingData(forwardedMessageBytes: Int)
        /// Holding postdesk's reply to the final dot.
        case holdingReply(String)
        /// The first connection has been closed.
        case closed
    }

    let port: Int
    private let hold: HoldPoint
    private let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var state = Progress.waiting
    private var connections = 0
    private var stopped = false

    /// A proxy on a free loopback port to `127.0.0.1:target`.
    init(to target: Int, holding hold: HoldPoint) throws {
        self.target = target
        self.hold = hold
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostdeskTestError("socket() failed") }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw PostdeskTestError("cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    var progress: Progress { lock.withLock { state } }

    /// Stops accepting; connections in flight end with their peers.
    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if lock.withLock({ stopped }) || errno != EINTR {
                    close(listener)
                    return
                }
                continue
            }
            let first = lock.withLock {
                connections += 1
                return connections == 1
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard server >= 0, connected == 0 else {
                // Nobody listens (postdesk is down): the MTA sees the connection close, as it would without us.
                if server >= 0 { close(server) }
                close(client)
                continue
            }
            let session = Session(client: client, server: server, hold: first ? hold : nil, proxy: self)
            Thread { session.pumpToServer() }.start()
            Thread { session.pumpToClient() }.start()
        }
    }

    fileprivate func report(_ progress: Progress) {
        lock.withLock { state = progress }
    }
}

/// One proxied connection: two pumps, each ending the whole connection when its side closes.
private final class Session: @unchecked Sendable {
    let client: Int32
    let server: Int32
    let hold: LMTPHoldingProxy.HoldPoint?
    let proxy: LMTPHoldingProxy
    private let lock = NSLock()
    /// Postdesk has answered DATA with 354: what the client sends now is the message.
    private var inData = false
    /// The message's final dot has been forwarded: postdesk's next words are its reply to it.
    private var dotForwarded = false
    private var pumpsRunning = 2

    init(client: Int32, server: Int32, hold: LMTPHoldingProxy.HoldPoint?, proxy: LMTPHoldingProxy) {
        self.client = client
        self.server = server
        self.hold = hold
        self.proxy = proxy
    }

    /// MTA → postdesk.
    func pumpToServer() {
        var firstLine: [UInt8] = []
        var tail: [UInt8] = []
        var holding = false
        while let chunk = Self.read(client) {
            if holding { continue }
            guard let hold, lock.withLock({ inData }) else {
                Self.write(chunk, to: server)
                continue
            }
            switch hold {
            case .insideData:
                // Forward the message's first line only; the rest, and the final dot, never reach postdesk.
                firstLine += chunk
                guard let end = Self.find([0x0D, 0x0A], in: firstLine) else { continue }
                let forwarded = Array(firstLine[..<(end + 2)])
                Self.write(forwarded, to: server)
                holding = true
                proxy.report(.holdingData(forwardedMessageBytes: forwarded.count))
            case .beforeReply:
                // RFC 5321 §4.1.1.4: the message ends with CRLF "." CRLF (looked for across chunk boundaries). Mark it
                // before forwarding it, so the other pump already knows when postdesk answers.
                let window = tail + chunk
                if Self.find([0x0D, 0x0A, 0x2E, 0x0D, 0x0A], in: window) != nil {
                    lock.withLock { dotForwarded = true }
                }
                tail = Array(window.suffix(4))
                Self.write(chunk, to: server)
            }
        }
        finish()
    }

    /// Postdesk → MTA.
    func pumpToClient() {
        var replies: [UInt8] = []
        while let chunk = Self.read(server) {
            if let hold {
                if hold == .beforeReply, lock.withLock({ dotForwarded }) {
                    replies += chunk
                    proxy.report(.holdingReply(String(decoding: replies, as: UTF8.self)))
                    continue
                }
                if !lock.withLock({ inData }) {
                    // RFC 5321 §4.2: a reply line starts with its code; "354" answers DATA and opens the message.
                    replies += chunk
                    let lines = String(decoding: replies, as: UTF8.self).components(separatedBy: "\r\n").dropLast()
                    if lines.contains(where: { $0.hasPrefix("354") }) { lock.withLock { inData = true } }
                    if lock.withLock({ inData }) { replies = [] }
                }
            }
            Self.write(chunk, to: client)
        }
        finish()
    }

    /// One side closed: close both, so that the other pump ends too; the last pump closes the descriptors.
    private func finish() {
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(server, Int32(SHUT_RDWR))
        let last = lock.withLock {
            pumpsRunning -= 1
            return pumpsRunning == 0
        }
        guard last else { return }
        close(client)
        close(server)
        if hold != nil { proxy.report(.closed) }
    }

    private static func read(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Array(buffer[0..<count])
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
