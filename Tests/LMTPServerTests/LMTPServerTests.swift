import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

@testable import LMTPServer

/// An owner that takes every address at desk.test and records what it was handed.
actor RecordingOwner: LMTPDeliveryHandler {
    private(set) var deliveries: [LMTPDelivery] = []

    nonisolated func recipient(_ address: String) async -> LMTPRecipientVerdict {
        address.hasSuffix("@desk.test") ? .accepted : .unknownRecipient
    }

    func deliver(_ delivery: LMTPDelivery) async -> [LMTPDeliveryResult] {
        deliveries.append(delivery)
        return delivery.recipients.map { _ in .delivered }
    }
}

/// A listener run by a ServiceGroup, as `postdesk serve` runs it.
struct RunningListener {
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let address: SocketAddress

    static func start(
        _ listen: LMTPListenAddress, owner: RecordingOwner, maximumConnections: Int = 256
    ) async throws -> RunningListener {
        let (bound, continuation) = AsyncStream<SocketAddress>.makeStream()
        let server = LMTPServer(
            address: listen,
            configuration: LMTPServerConfiguration(
                hostname: "desk.test", maximumMessageSize: 1000, maximumConnections: maximumConnections),
            handler: owner, logger: Logger(label: "lmtp-test")
        ) { address in continuation.yield(address) }
        let group = ServiceGroup(services: [server], logger: Logger(label: "lmtp-test"))
        let task = Task { try await group.run() }
        var iterator = bound.makeAsyncIterator()
        guard let address = await iterator.next() else { throw LMTPServerError(.bindFailed, "no address") }
        return RunningListener(group: group, task: task, address: address)
    }
}

/// A raw client: sends bytes, reads what the server says.
struct RawClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(_ address: SocketAddress) async throws -> RawClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: address) {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return RawClient(channel: channel)
    }

    /// Sends each chunk, then reads until the server has sent `until` (or closed); returns all it read.
    func converse(_ chunks: [String], until: String? = nil) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            var text = ""
            var iterator = inbound.makeAsyncIterator()
            for chunk in chunks {
                try await outbound.write(ByteBuffer(string: chunk))
            }
            while let buffer = try await iterator.next() {
                text += String(buffer: buffer)
                if let until, text.contains(until) { break }
            }
            return text.replacingOccurrences(of: "\r\n", with: "\n")
        }
    }
}

@Suite("LMTP listener")
struct LMTPServerTests {
    static let session = [
        "LHLO mta.test\r\nMAIL FROM:<a@customer.test>\r\nRCPT TO:<help@desk.test>\r\nRCPT TO:<x@other.test>\r\nDATA\r\n",
        "Subject: hi\r\n\r\n..body\r\n.\r\nQUIT\r\n",
    ]

    static let reply = """
        220 desk.test LMTP postdesk ready
        250-desk.test
        250-PIPELINING
        250-8BITMIME
        250-ENHANCEDSTATUSCODES
        250 SIZE 1000
        250 2.1.0 sender ok
        250 2.1.5 <help@desk.test> recipient ok
        550 5.1.1 <x@other.test> no such mailbox here
        354 start mail input; end with <CRLF>.<CRLF>
        250 2.0.0 <help@desk.test> message stored
        221 2.0.0 desk.test closing connection

        """

    @Test("over TCP on 127.0.0.1: a pipelined session is answered in order and the message is handed over")
    func tcp() async throws {
        let owner = RecordingOwner()
        let listener = try await RunningListener.start(.tcp(host: "127.0.0.1", port: 0), owner: owner)
        let client = try await RawClient.connect(listener.address)
        #expect(try await client.converse(Self.session) == Self.reply)
        let deliveries = await owner.deliveries
        #expect(deliveries.map(\.recipients) == [["help@desk.test"]])
        #expect(deliveries.first.map { String(decoding: $0.message, as: UTF8.self) } == "Subject: hi\r\n\r\n.body\r\n")
        await listener.group.triggerGracefulShutdown()
        try await listener.task.value
    }

    @Test("over a Unix socket, which is removed when the listener stops")
    func unixSocket() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lmtp-\(UUID().uuidString.prefix(8)).sock"
        )
        .path
        let owner = RecordingOwner()
        let listener = try await RunningListener.start(.unix(path: path), owner: owner)
        #expect(FileManager.default.fileExists(atPath: path))
        let client = try await RawClient.connect(try SocketAddress(unixDomainSocketPath: path))
        #expect(try await client.converse(Self.session) == Self.reply)
        #expect(await owner.deliveries.count == 1)
        await listener.group.triggerGracefulShutdown()
        try await listener.task.value
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A Unix socket of its own: a TCP port freed by one test can be handed to another test's listener running in
    /// parallel, and a connection meant for a stopped listener would then land there.
    static func privateSocket() -> LMTPListenAddress {
        .unix(
            path: FileManager.default.temporaryDirectory.appendingPathComponent(
                "lmtp-\(UUID().uuidString.prefix(8)).sock"
            ).path)
    }

    @Test("graceful shutdown: a DATA in flight finishes with its 250, then 421; new connections are refused")
    func shutdownDuringData() async throws {
        let owner = RecordingOwner()
        let listener = try await RunningListener.start(Self.privateSocket(), owner: owner)
        let client = try await RawClient.connect(listener.address)
        let text = try await client.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var text = ""
            func readUntil(_ marker: String) async throws {
                while !text.contains(marker), let buffer = try await iterator.next() { text += String(buffer: buffer) }
            }
            try await outbound.write(
                ByteBuffer(string: "LHLO m\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<help@desk.test>\r\nDATA\r\nfirst\r\n"))
            try await readUntil("354 ")
            await listener.group.triggerGracefulShutdown()
            // The listener stops accepting before the session is told; give the signal a moment to arrive.
            try await Task.sleep(for: .milliseconds(200))
            try await outbound.write(ByteBuffer(string: "second\r\n.\r\nNOOP\r\n"))
            try await readUntil("421 ")
            while let buffer = try await iterator.next() { text += String(buffer: buffer) }
            return text.replacingOccurrences(of: "\r\n", with: "\n")
        }
        #expect(
            text.hasSuffix(
                "250 2.0.0 <help@desk.test> message stored\n421 4.3.2 desk.test shutting down; try again later\n"))
        #expect(await owner.deliveries.map { String(decoding: $0.message, as: UTF8.self) } == ["first\r\nsecond\r\n"])
        try await listener.task.value
        await #expect(throws: (any Error).self) { _ = try await RawClient.connect(listener.address).converse([]) }
    }

    @Test("past the connection limit a client gets 421 and is closed; once a session ends there is room again")
    func connectionLimit() async throws {
        let owner = RecordingOwner()
        let listener = try await RunningListener.start(Self.privateSocket(), owner: owner, maximumConnections: 1)
        let first = try await RawClient.connect(listener.address)
        let held = try await first.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let greeting = try await iterator.next().map { String(buffer: $0) }
            let second = try await RawClient.connect(listener.address)
            let refused = try await second.converse([])
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
            while try await iterator.next() != nil {}
            return (greeting, refused)
        }
        #expect(held.0 == "220 desk.test LMTP postdesk ready\r\n")
        #expect(held.1 == "421 4.3.2 desk.test too many connections; try again later\n")
        // The slot is given back when the session's task ends, a moment after the close.
        var again = ""
        for _ in 0..<50 where !again.hasPrefix("220") {
            // Refused while the slot is still taken: the 421 and close can beat our QUIT (I/O on closed channel).
            again = (try? await RawClient.connect(listener.address).converse(["QUIT\r\n"])) ?? ""
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(again.hasPrefix("220 desk.test"))
        await listener.group.triggerGracefulShutdown()
        try await listener.task.value
    }

    @Test("a listen address is HOST:PORT or unix:PATH")
    func listenAddress() throws {
        #expect(try LMTPListenAddress(parsing: "127.0.0.1:2424") == .tcp(host: "127.0.0.1", port: 2424))
        #expect(try LMTPListenAddress(parsing: "[::1]:24") == .tcp(host: "::1", port: 24))
        #expect(try LMTPListenAddress(parsing: "unix:/run/postdesk/lmtp") == .unix(path: "/run/postdesk/lmtp"))
        for bad in ["127.0.0.1", "127.0.0.1:99999", ":24", "unix:", "host:port"] {
            #expect(throws: LMTPServerError.self) { try LMTPListenAddress(parsing: bad) }
        }
    }
}
