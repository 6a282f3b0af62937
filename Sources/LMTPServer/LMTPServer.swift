import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An LMTP listener (RFC 2033) on TCP or a Unix socket, run as a Service: every connection is served in a child
/// task that asks `handler` about each recipient and hands it each message. On graceful shutdown it stops
/// accepting, lets every message being read or stored finish, and then says 421 to each client; on cancellation
/// it closes what is left (a client without a final reply keeps its mail and retries).
public struct LMTPServer: Service {
    private let address: LMTPListenAddress
    private let configuration: LMTPServerConfiguration
    private let handler: any LMTPDeliveryHandler
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) async -> Void

    /// A listener for `address`; `onListening` is told the bound address (with the port the system picked for 0).
    public init(
        address: LMTPListenAddress, configuration: LMTPServerConfiguration, handler: any LMTPDeliveryHandler,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.address = address
        self.configuration = configuration
        self.handler = handler
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
    }

    /// What the child channel initializer made of a new connection.
    private enum Accepted: Sendable {
        case session(NIOAsyncChannel<LMTPServerRequest, LMTPServerAnswer>)
        /// Over the connection limit: answered 421 and closed by `LMTPRefusalHandler`.
        case refused
    }

    public func run() async throws {
        let configuration = self.configuration
        let connections = NIOLockedValueBox(0)
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Accepted> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let admitted = connections.withLockedValue { count in
                    guard count < configuration.maximumConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    try channel.pipeline.syncOperations.addHandler(LMTPRefusalHandler(hostname: configuration.hostname))
                    return .refused
                }
                try channel.pipeline.syncOperations.addHandler(
                    LMTPServerHandler(
                        limits: configuration.limits, maximumCommandLength: configuration.maximumCommandLength,
                        idleTimeout: configuration.idleTimeout))
                return .session(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
            }
        }
        let server: NIOAsyncChannel<Accepted, Never>
        do {
            switch address {
            case .tcp(let host, let port):
                server = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            case .unix(let path):
                server = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
                // Reachable by the local MTA's user (Postfix's lmtp runs as postfix), as 127.0.0.1 would be.
                chmod(path, 0o666)
            }
        } catch {
            throw LMTPServerError(.bindFailed, "cannot listen for LMTP on \(address)", underlying: error)
        }
        let serverChannel = server.channel
        if let local = serverChannel.localAddress { await onListening(local) }
        logger.info(
            "LMTP listener open",
            metadata: ["lmtp.address": "\(serverChannel.localAddress?.description ?? "\(address)")"])
        let handler = self.handler
        let logger = self.logger
        try await withGracefulShutdownHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await accepted in inbound {
                        guard case .session(let connection) = accepted else { continue }
                        group.addTask {
                            defer { connections.withLockedValue { $0 -= 1 } }
                            await Self.serve(connection, handler: handler, logger: logger)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            // No new connections; the open ones are told by their own shutdown handlers.
            serverChannel.close(promise: nil)
        }
        if case .unix(let path) = address { unlink(path) }
        logger.info("LMTP listener closed")
    }

    /// Serves one connection: answers the handler's requests in order until the client or the server ends it.
    private static func serve(
        _ connection: NIOAsyncChannel<LMTPServerRequest, LMTPServerAnswer>, handler: any LMTPDeliveryHandler,
        logger: Logger
    ) async {
        let channel = connection.channel
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await connection.executeThenClose { inbound, outbound in
                        for try await request in inbound {
                            switch request {
                            case .recipient(let address):
                                try await outbound.write(.recipient(await handler.recipient(address)))
                            case .delivery(let delivery):
                                try await outbound.write(.delivery(await handler.deliver(delivery)))
                            }
                        }
                    }
                } onGracefulShutdown: {
                    channel.triggerUserOutboundEvent(LMTPDrainEvent(), promise: nil)
                }
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            logger.debug("LMTP connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Answers a connection over the limit with 421 (RFC 5321 §3.8) and closes it.
final class LMTPRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let hostname: String

    init(hostname: String) {
        self.hostname = hostname
    }

    func channelActive(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 64)
        LMTPReply(421, "4.3.2", "\(hostname) too many connections; try again later").encode(into: &out)
        context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
