import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import MailClients

#if canImport(Glibc)
    import Glibc
#endif

/// Self-signed test certificates (P-256, valid until 2126), made for these tests with openssl.
enum TransportFixtures {
    /// Names only IP address 127.0.0.1.
    static let ipCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBkDCCATagAwIBAgIUU/9b/DjOXYSSoViYHI91+LAtW10wCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMTEyNTIyNVoYDzIxMjYxMDI4
        MTI1MjI1WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAARhzvKabTE7JHkv3tT5Tel5doz+6imR8MBdfJifuWQykjOBq7Msqq4c
        nLKs7yapvzpf6PVceSS3OuhUb/RlVDxYo2QwYjAdBgNVHQ4EFgQUt70iiAUug5L3
        K7BGN/SW6J9z0IQwHwYDVR0jBBgwFoAUt70iiAUug5L3K7BGN/SW6J9z0IQwDwYD
        VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
        IQChLoiUtaZGiHTWj2FBwfeLZ8ORdd4+kcB0FO89sKeDiwIgKzCsOf8ffyOBxE0v
        olL+jFtwEc9vC9EyMyn4OPIYE7A=
        -----END CERTIFICATE-----
        """
    static let ipKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSYdXsg/8pfOf1H2J
        iyKWOSdxjV6lJ4Tjk8y7/zvAXSqhRANCAARhzvKabTE7JHkv3tT5Tel5doz+6imR
        8MBdfJifuWQykjOBq7Msqq4cnLKs7yapvzpf6PVceSS3OuhUb/RlVDxY
        -----END PRIVATE KEY-----
        """
    /// Names only other.test.
    static let otherCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBmTCCAT6gAwIBAgIUFoimsHyYcy+5iomkNOkAfMJxFqEwCgYIKoZIzj0EAwIw
        FTETMBEGA1UEAwwKb3RoZXIudGVzdDAgFw0yNjExMjExMjUyMjVaGA8yMTI2MTAy
        ODEyNTIyNVowFTETMBEGA1UEAwwKb3RoZXIudGVzdDBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABL6Tf9nPvFNsYUdDJ7FwUCsK1KTZTBR5hjSNvRqr9sTWFjGBJz8K
        tdHK2rDLQ4JIPVQR573cb2pp0uxSx78WXiajajBoMB0GA1UdDgQWBBQwxBnp6bg9
        WLkxscPu8OupT8sglzAfBgNVHSMEGDAWgBQwxBnp6bg9WLkxscPu8OupT8sglzAP
        BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCm90aGVyLnRlc3QwCgYIKoZIzj0E
        AwIDSQAwRgIhAK+FWBPzhVxhYefFEQ03oR2TwVNIEihJOZW7vL0S0H2QAiEAxwz6
        CysmxPEUKBiDisxgxHIgaN6nR2kPRsc3qLZSZcg=
        -----END CERTIFICATE-----
        """
    static let otherKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi+JZ5NKQIvGG1kHI
        e2Rdn170RX2oLzi/m/dkCL67dVKhRANCAAS+k3/Zz7xTbGFHQyexcFArCtSk2UwU
        eYY0jb0aq/bE1hYxgSc/CrXRytqwy0OCSD1UEee93G9qadLsUse/Fl4m
        -----END PRIVATE KEY-----
        """
}

/// A TLS (or plain) server on 127.0.0.1 that sends a greeting line to every client.
private func withGreetingServer<R>(
    certificate: String?,
    key: String?,
    greeting: String = "* OK hello\r\n",
    _ body: (Int) async throws -> R
) async throws -> R {
    let sslContext: NIOSSLContext?
    if let certificate, let key {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        )
        sslContext = try NIOSSLContext(configuration: configuration)
    } else {
        sslContext = nil
    }
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let sslContext {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                }
                try channel.pipeline.syncOperations.addHandler(GreetingHandler(greeting: greeting))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let port = server.localAddress?.port ?? 0
    do {
        let result = try await body(port)
        try await server.close()
        return result
    } catch {
        try? await server.close()
        throw error
    }
}

private final class GreetingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let greeting: String
    init(greeting: String) { self.greeting = greeting }
    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: self.greeting)), promise: nil)
        context.fireChannelActive()
    }
}

private func writeTemporaryPEM(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "mailtransport-\(UUID().uuidString).pem"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Connects, reads the first line, closes.
private func firstLine(_ endpoint: MailServerEndpoint) async throws -> String {
    let channel = try await MailTransport.connect(
        to: endpoint,
        inboundType: ByteBuffer.self,
        outboundType: ByteBuffer.self,
        logger: Logger(label: "test"),
        framing: { _ in }
    )
    return try await channel.executeThenClose { inbound, _ in
        var text = ""
        for try await var buffer in inbound {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
            if text.hasSuffix("\r\n") { break }
        }
        return text
    }
}

@Suite("Mail transport")
struct MailTransportTests {
    @Test("implicit TLS succeeds when the caFile trusts the server's certificate")
    func trustedByCAFile() async throws {
        let caFile = try writeTemporaryPEM(TransportFixtures.ipCertificate)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let line = try await withGreetingServer(
            certificate: TransportFixtures.ipCertificate, key: TransportFixtures.ipKey
        ) {
            port in
            try await firstLine(MailServerEndpoint(host: "127.0.0.1", port: port, tls: .implicit, caFile: caFile))
        }
        #expect(line == "* OK hello\r\n")
    }

    @Test("a self-signed certificate without caFile is tlsCertificateUntrusted")
    func untrusted() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withGreetingServer(certificate: TransportFixtures.ipCertificate, key: TransportFixtures.ipKey) {
                port in
                try await firstLine(MailServerEndpoint(host: "127.0.0.1", port: port, tls: .implicit))
            }
        }
        #expect(error?.code == .tlsCertificateUntrusted)
    }

    @Test("a trusted certificate for another name is tlsHostnameMismatch")
    func hostnameMismatch() async throws {
        let caFile = try writeTemporaryPEM(TransportFixtures.otherCertificate)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let error = await #expect(throws: MailClientError.self) {
            try await withGreetingServer(
                certificate: TransportFixtures.otherCertificate,
                key: TransportFixtures.otherKey
            ) { port in
                try await firstLine(MailServerEndpoint(host: "127.0.0.1", port: port, tls: .implicit, caFile: caFile))
            }
        }
        #expect(error?.code == .tlsHostnameMismatch)
    }

    @Test("TLS to a plaintext server is tlsHandshakeFailed")
    func tlsToPlaintext() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await withGreetingServer(certificate: nil, key: nil) { port in
                try await firstLine(MailServerEndpoint(host: "127.0.0.1", port: port, tls: .implicit))
            }
        }
        #expect(error?.code == .tlsHandshakeFailed)
    }

    @Test("a server that never answers the TLS handshake times out")
    func handshakeTimeout() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress?.port ?? 0
        let error = await #expect(throws: MailClientError.self) {
            try await firstLine(
                MailServerEndpoint(host: "127.0.0.1", port: port, tls: .implicit, connectTimeout: .milliseconds(300))
            )
        }
        #expect(error?.code == .timeout)
    }

    @Test("nothing listening is connectionRefused")
    func refused() async throws {
        // A socket that is bound but not listening holds its port, so no other test or server can take it
        // in the meantime (a closed server's port can be reused at once), and connecting to it is refused.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let error = await #expect(throws: MailClientError.self) {
            try await firstLine(MailServerEndpoint(host: "127.0.0.1", port: port, tls: .none))
        }
        #expect(error?.code == .connectionRefused)
    }

    @Test("a missing caFile is reported, not crashed on")
    func missingCAFile() async throws {
        let error = await #expect(throws: MailClientError.self) {
            try await firstLine(
                MailServerEndpoint(host: "127.0.0.1", port: 1, tls: .implicit, caFile: "/nonexistent/ca.pem")
            )
        }
        #expect(error?.code == .tlsHandshakeFailed)
        #expect(error?.message.contains("/nonexistent/ca.pem") == true)
    }

    @Test(
        "NIO errors map to MailClientError codes",
        arguments: [
            (ChannelError.connectTimeout(.seconds(1)) as any Error, MailClientError.Code.timeout),
            (ChannelError.eof, .connectionClosed),
            (IOError(errnoCode: ECONNREFUSED, reason: "connect"), .connectionRefused),
            (IOError(errnoCode: ECONNRESET, reason: "read"), .connectionClosed),
            (NIOSSLExtraError.failedToValidateHostname, .tlsHostnameMismatch),
            (MailClientError(.authenticationFailed, "kept"), .authenticationFailed),
        ] as [(any Error, MailClientError.Code)]
    )
    func mapping(_ error: any Error, _ code: MailClientError.Code) {
        let endpoint = MailServerEndpoint(host: "mail.example.test", port: 993, tls: .implicit)
        #expect(MailTransport.mailClientError(for: error, endpoint: endpoint).code == code)
    }
}
