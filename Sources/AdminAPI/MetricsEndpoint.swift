import EmailChannel
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceDesk
import ServiceLifecycle

/// `GET /metrics` in the Prometheus text exposition format (version 0.0.4): every series of one registry, with the
/// gauges that describe a state (channels, outbox) read at the scrape. Served on the admin socket and, with
/// `serve --metrics-listen`, on a TCP listener that serves nothing else.
public struct MetricsEndpoint: Sendable {
    /// The registry every series is created in.
    public let registry: PrometheusCollectorRegistry
    /// The series the runtime records into (made through `factory(for: registry)`).
    public let metrics: PostdeskMetrics
    let statusBoard: ChannelStatusBoard
    let store: DeskStore
    let logger: Logger

    /// The media type of the text exposition format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// An endpoint over `registry`; `metrics` must record into it.
    public init(
        registry: PrometheusCollectorRegistry, metrics: PostdeskMetrics, statusBoard: ChannelStatusBoard,
        store: DeskStore, logger: Logger
    ) {
        self.registry = registry
        self.metrics = metrics
        self.statusBoard = statusBoard
        self.store = store
        self.logger = logger
    }

    /// A swift-metrics factory over `registry`, with postdesk's histogram buckets.
    public static func factory(for registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[PostdeskMetrics.Name.intakeLatency.rawValue] =
            PostdeskMetrics.intakeLatencyBuckets
        return factory
    }

    /// The exposition: the channel and outbox gauges read now, then every series.
    public func scrape() async -> [UInt8] {
        metrics.showChannels(await statusBoard.countsByState())
        do {
            metrics.showOutbox(try await store.outboxCounts())
        } catch {
            // The other series are still worth a scrape; the outbox gauges keep their last reading.
            logger.warning("cannot read the outbox for /metrics", metadata: ["error": "\(error)"])
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return PostdeskMetrics.addingHelp(to: buffer)
    }

    /// Adds `GET /metrics`.
    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/metrics") { _, _ in
            let exposition = await scrape()
            return Response(
                status: .ok, headers: [.contentType: Self.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: exposition)))
        }
    }

    /// The TCP listener of `--metrics-listen`: `GET /metrics`, and 404 for anything else.
    func listener(at address: TCPListenAddress) -> some Service {
        let router = Router()
        addRoutes(to: router)
        let logger = self.logger
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "postdesk"),
            onServerRunning: { channel in
                logger.info(
                    "serving Prometheus metrics on GET /metrics",
                    metadata: ["metrics.address": "\(channel.localAddress.map { "\($0)" } ?? "\(address)")"])
            },
            logger: logger)
    }
}
