import Foundation  // errno constants (ECONNREFUSED, …)
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// The shared TCP + TLS connection layer of the IMAP, POP3 and SMTP clients.
///
/// How a protocol client uses it:
/// 1. `MailTransport.connect(to:logger:framing:)` opens TCP (with `endpoint.connectTimeout`), puts a
///    `NIOSSLClientHandler` first in the pipeline when `endpoint.tls == .implicit` and waits for the handshake,
///    calls `framing` on the event loop to add the protocol's own handlers (decoder, encoder, state machine), and
///    wraps the channel in an `NIOAsyncChannel<Inbound, Outbound>` created inside the channel initializer.
///    Read the greeting from its inbound stream; use it through `executeThenClose`.
/// 2. For `.starttls`: send STARTTLS (IMAP, SMTP) or STLS (POP3) and wait for the go-ahead. The protocol handler
///    must drop every byte it already holds or later receives in plaintext after the go-ahead (RFC 3207 §4.2,
///    RFC 2595 §3.1: such data may be injected by an attacker) until it sees `TLSUserEvent.handshakeCompleted`.
///    Then call `MailTransport.startTLS(on: asyncChannel.channel, endpoint:logger:)`, which inserts the TLS
///    handler at the front of the live pipeline and returns once the handshake is done; re-read capabilities.
/// 3. Every error this type throws is a `MailClientError`. Protocol code maps the errors it sees on the
///    inbound stream with `MailTransport.mailClientError(for:endpoint:)` so users get the same codes and words.
public enum MailTransport {
    /// Opens a connection to `endpoint` and returns it as an `NIOAsyncChannel` whose pipeline holds, in order,
    /// TLS (for `.implicit`), the handlers `framing` adds, and the async channel's own handler.
    ///
    /// `framing` runs on the channel's event loop before the connection is established; it must only add handlers.
    /// Throws a `MailClientError` (`.dnsFailure`, `.connectionRefused`, `.timeout`, `.tlsCertificateUntrusted`, …).
    public static func connect<Inbound: Sendable, Outbound: Sendable>(
        to endpoint: MailServerEndpoint,
        inboundType: Inbound.Type = Inbound.self,
        outboundType: Outbound.Type = Outbound.self,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        framing: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws -> NIOAsyncChannel<Inbound, Outbound> {
        let tlsContext: NIOSSLContext?
        switch endpoint.tls {
        case .implicit:
            tlsContext = try makeTLSContext(for: endpoint)
        case .starttls, .none:
            tlsContext = nil
        }
        let handshakeTimeout = TimeAmount(endpoint.connectTimeout)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(endpoint.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)

        logger.debug(
            "connecting",
            metadata: [
                "mail.server.host": "\(endpoint.host)", "mail.server.port": "\(endpoint.port)",
                "mail.server.tls": "\(endpoint.tls.rawValue)",
            ]
        )
        let opened: (NIOAsyncChannel<Inbound, Outbound>, EventLoopFuture<Void>?)
        do {
            opened = try await bootstrap.connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    var handshake: EventLoopFuture<Void>?
                    if let tlsContext {
                        let watcher = TLSHandshakeWatcher(
                            promise: channel.eventLoop.makePromise(),
                            timeout: handshakeTimeout
                        )
                        try sync.addHandler(makeTLSHandler(context: tlsContext, host: endpoint.host))
                        try sync.addHandler(watcher)
                        handshake = watcher.promise.futureResult
                    }
                    try framing(sync)
                    let asyncChannel = try NIOAsyncChannel<Inbound, Outbound>(wrappingChannelSynchronously: channel)
                    return (asyncChannel, handshake)
                }
            }
        } catch {
            throw mailClientError(for: error, endpoint: endpoint)
        }
        let (asyncChannel, handshake) = opened
        if let handshake {
            do {
                try await handshake.get()
            } catch {
                // Finishes the async channel's writer and closes the channel.
                try? await asyncChannel.executeThenClose { _, _ in }
                throw mailClientError(for: error, endpoint: endpoint)
            }
            logger.debug("TLS established", metadata: ["mail.server.host": "\(endpoint.host)"])
        }
        return asyncChannel
    }

    /// Upgrades a live plaintext connection to TLS after the server's STARTTLS/STLS go-ahead: inserts a
    /// `NIOSSLClientHandler` (SNI and hostname verification against `endpoint.host`) at the front of the pipeline
    /// and returns when the handshake has completed, or throws a `MailClientError`.
    ///
    /// The caller's handlers must already be discarding plaintext received after the go-ahead
    /// (RFC 3207 §4.2, RFC 2595 §3.1); they see `TLSUserEvent.handshakeCompleted` when TLS is up.
    public static func startTLS(on channel: any Channel, endpoint: MailServerEndpoint, logger: Logger) async throws {
        let tlsContext = try makeTLSContext(for: endpoint)
        let timeout = TimeAmount(endpoint.connectTimeout)
        do {
            let handshake = try await channel.eventLoop.submit {
                let sync = channel.pipeline.syncOperations
                let tlsHandler = try makeTLSHandler(context: tlsContext, host: endpoint.host)
                let watcher = TLSHandshakeWatcher(promise: channel.eventLoop.makePromise(), timeout: timeout)
                try sync.addHandler(tlsHandler, position: .first)
                try sync.addHandler(watcher, position: .after(tlsHandler))
                return watcher.promise.futureResult
            }.get()
            try await handshake.get()
        } catch {
            channel.close(promise: nil)
            throw mailClientError(for: error, endpoint: endpoint)
        }
        logger.debug("STARTTLS established", metadata: ["mail.server.host": "\(endpoint.host)"])
    }

    /// Builds the client TLS context: certificate verification on, the system roots, plus the PEM certificates in
    /// `endpoint.caFile` when given.
    public static func makeTLSContext(for endpoint: MailServerEndpoint) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = endpoint.caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else {
                    throw MailClientError(.tlsHandshakeFailed, "the CA file \(caFile) holds no PEM certificate")
                }
                configuration.additionalTrustRoots = [.certificates(certificates)]
            } catch let error as MailClientError {
                throw error
            } catch {
                throw MailClientError(
                    .tlsHandshakeFailed,
                    "cannot read the CA file \(caFile) as PEM certificates",
                    underlying: error
                )
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw MailClientError(.tlsHandshakeFailed, "cannot set up TLS", underlying: error)
        }
    }

    /// A TLS client handler for `host`: SNI and name checks for host names, IP-address SAN checks for literal IPs
    /// (RFC 6066 §3 forbids IP addresses in SNI).
    static func makeTLSHandler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        let isIPAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isIPAddress ? nil : host)
    }

    /// Translates any error from NIO, NIOSSL, DNS or the protocol handlers into a `MailClientError` with a message
    /// an administrator can act on. `MailClientError`s pass through unchanged.
    public static func mailClientError(for error: any Error, endpoint: MailServerEndpoint) -> MailClientError {
        let target = "\(endpoint.host):\(endpoint.port)"
        switch error {
        case let error as MailClientError:
            return error
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return MailClientError(
                    .dnsFailure, "the host name \(endpoint.host) does not resolve", underlying: error)
            }
            if let first = error.connectionErrors.first {
                let mapped = mailClientError(for: first.error, endpoint: endpoint)
                return MailClientError(mapped.code, mapped.message, underlying: error)
            }
            return MailClientError(.connectionRefused, "cannot connect to \(target)", underlying: error)
        case let error as SocketAddressError.UnknownHost:
            return MailClientError(.dnsFailure, "the host name \(endpoint.host) does not resolve", underlying: error)
        case let error as SocketAddressError:
            return MailClientError(.dnsFailure, "the host name \(endpoint.host) does not resolve", underlying: error)
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED:
                return MailClientError(
                    .connectionRefused,
                    "connection refused by \(target): nothing listens on that port",
                    underlying: error
                )
            case ENETUNREACH, EHOSTUNREACH:
                return MailClientError(.connectionRefused, "\(target) is unreachable", underlying: error)
            case ETIMEDOUT:
                return MailClientError(.timeout, "\(target) did not answer in time", underlying: error)
            case ECONNRESET, EPIPE:
                return MailClientError(.connectionClosed, "\(target) closed the connection", underlying: error)
            default:
                return MailClientError(.connectionRefused, "cannot connect to \(target): \(error)", underlying: error)
            }
        case let error as ChannelError:
            switch error {
            case .connectTimeout:
                return MailClientError(
                    .timeout,
                    "no connection to \(target) within \(endpoint.connectTimeout)",
                    underlying: error
                )
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return MailClientError(.connectionClosed, "\(target) closed the connection", underlying: error)
            default:
                return MailClientError(.connectionClosed, "connection to \(target) failed: \(error)", underlying: error)
            }
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return MailClientError(
                .tlsHostnameMismatch,
                "the server's certificate does not name \(endpoint.host)",
                underlying: error
            )
        case let error as NIOSSLExtraError:
            return MailClientError(.tlsHandshakeFailed, "TLS with \(target) failed: \(error)", underlying: error)
        case let error as NIOSSLError:
            return tlsError(error, endpoint: endpoint)
        default:
            return MailClientError(.connectionClosed, "connection to \(target) failed: \(error)", underlying: error)
        }
    }

    private static func tlsError(_ error: NIOSSLError, endpoint: MailServerEndpoint) -> MailClientError {
        let target = "\(endpoint.host):\(endpoint.port)"
        switch error {
        case .handshakeFailed(let inner):
            let detail = "\(inner)"
            if detail.contains("CERTIFICATE_VERIFY_FAILED") {
                let hint =
                    endpoint.caFile == nil
                    ? "self-signed or issued by a private CA? give its CA file"
                    : "is the CA file the one that issued it?"
                return MailClientError(
                    .tlsCertificateUntrusted,
                    "the certificate of \(target) is not trusted (\(hint))",
                    underlying: error
                )
            }
            if detail.contains("WRONG_VERSION_NUMBER") || detail.contains("PACKET_LENGTH_TOO_LONG") {
                return MailClientError(
                    .tlsHandshakeFailed,
                    "\(target) does not speak TLS on this port (plaintext or STARTTLS port?)",
                    underlying: error
                )
            }
            return MailClientError(.tlsHandshakeFailed, "TLS handshake with \(target) failed", underlying: error)
        case .uncleanShutdown:
            return MailClientError(
                .connectionClosed, "\(target) closed the TLS connection uncleanly", underlying: error)
        default:
            return MailClientError(.tlsHandshakeFailed, "TLS with \(target) failed: \(error)", underlying: error)
        }
    }
}

/// Completes `promise` when the TLS handshake in front of it completes, fails it on an error, on close or after
/// `timeout`, then steps out of the pipeline.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var done = false

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: self.timeout) {
            let (watcher, context) = loopBound.value
            watcher.finish(.failure(MailClientError(.timeout, "no TLS handshake within \(watcher.timeout)")))
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.finish(.failure(ChannelError.ioOnClosedChannel))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            // Let the protocol handlers see the event before the waiting caller resumes and writes.
            context.fireUserInboundEventTriggered(event)
            self.finish(.success(()))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !self.done else { return }
        self.done = true
        self.timer?.cancel()
        self.timer = nil
        self.promise.completeWith(result)
    }
}
