import Foundation
import Testing

@testable import ServiceDesk

@Suite("Plaintext mail server links")
struct TransportSecurityTests {
    /// Hosts and whether they name this machine.
    static let hosts: [(host: String, loopback: Bool)] = [
        ("127.0.0.1", true),
        ("127.255.255.254", true),
        ("127.1.2.3", true),
        ("localhost", true),
        ("LocalHost", true),
        ("localhost.", true),
        ("::1", true),
        ("[::1]", true),
        ("0:0:0:0:0:0:0:1", true),
        ("::ffff:127.0.0.1", true),
        ("128.0.0.1", false),
        ("126.255.255.255", false),
        ("10.0.0.1", false),
        ("192.0.2.10", false),
        ("0.0.0.0", false),
        ("::", false),
        ("::2", false),
        ("::ffff:10.0.0.1", false),
        ("mail.example.com", false),
        ("localhost.example.com", false),
        ("mylocalhost", false),
        ("127.0.0.1.example.com", false),
        ("127.0.0.1x", false),
        ("", false),
    ]

    @Test("only 127.0.0.0/8, ::1 and localhost count as this machine", arguments: hosts)
    func loopback(_ fixture: (host: String, loopback: Bool)) {
        #expect(TransportSecurity.isLoopback(host: fixture.host) == fixture.loopback, "\(fixture.host)")
    }

    @Test("tls none is refused across the network without consent, naming the flag", arguments: hosts)
    func plaintextNeedsConsent(_ fixture: (host: String, loopback: Bool)) throws {
        if fixture.loopback {
            try TransportSecurity.permit(host: fixture.host, tls: .none, insecurePlaintext: false, what: "the server")
        } else {
            let error = try #require(throws: DeskError.self) {
                try TransportSecurity.permit(
                    host: fixture.host, tls: .none, insecurePlaintext: false, what: "the server")
            }
            #expect(error.code == .invalid)
            #expect(error.message.contains("--insecure-plaintext"))
            #expect(error.message.contains("unencrypted"))
            try TransportSecurity.permit(host: fixture.host, tls: .none, insecurePlaintext: true, what: "the server")
        }
        #expect(TransportSecurity.isPlaintextAcrossNetwork(host: fixture.host, tls: .none) == !fixture.loopback)
    }

    @Test("TLS to any host needs no consent", arguments: [ServerTLS.implicit, .starttls])
    func tlsIsFine(_ tls: ServerTLS) throws {
        try TransportSecurity.permit(host: "mail.example.com", tls: tls, insecurePlaintext: false, what: "the server")
        #expect(!TransportSecurity.isPlaintextAcrossNetwork(host: "mail.example.com", tls: tls))
    }
}

@Suite("Plaintext links in the store")
struct PlaintextStoreTests {
    func remoteDraft(_ address: String, consent: Bool) -> ChannelDraft {
        ChannelDraft(
            projectKey: "SD", address: address, protocol: .imap, host: "mail.example.com", port: 143, tls: .none,
            caFile: nil, username: address, password: "secret", requestTypeName: "Get help",
            insecurePlaintext: consent)
    }

    @Test(
        "a plaintext channel across the network is refused without consent and nothing is stored",
        arguments: StoreBackend.allCases)
    func channelRefused(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        let draft = remoteDraft("remote@desk.test", consent: false)
        let error = try await #require(throws: DeskError.self) { try await store.validate(draft) }
        #expect(error.message.contains("--insecure-plaintext"))
        #expect(error.message.contains("IMAP server mail.example.com"))
        await #expect(throws: DeskError.self) {
            try await store.linkChannel(draft, watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        }
        #expect(try await store.channels().map(\.channel.address) == ["help@desk.test"])
        #expect(try await store.plaintextLinks().isEmpty)
    }

    @Test(
        "with consent the channel is linked and listed as plaintext; loopback channels are not",
        arguments: StoreBackend.allCases)
    func channelConsented(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        _ = try await store.linkChannel(
            remoteDraft("remote@desk.test", consent: true), watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        let links = try await store.plaintextLinks()
        #expect(links == [.channel(address: "remote@desk.test", protocol: .imap, host: "mail.example.com", port: 143)])
        #expect(
            links.first?.description
                == "channel remote@desk.test (IMAP mail.example.com:143, tls none): plaintext: passwords and mail cross the network unencrypted"
        )
    }

    @Test("a plaintext relay across the network needs consent and is then listed", arguments: StoreBackend.allCases)
    func relay(backend: StoreBackend) async throws {
        let (store, _) = try await makeDesk(on: backend)
        let error = try await #require(throws: DeskError.self) {
            try await store.setSMTP(
                host: "relay.example.com", port: 25, tls: .none, caFile: nil, fromAddress: "help@desk.test",
                username: "help", password: "pw")
        }
        #expect(error.message.contains("--insecure-plaintext"))
        #expect(error.message.contains("SMTP relay relay.example.com"))
        #expect(try await store.relay() == nil)

        try await store.setSMTP(
            host: "127.0.0.1", port: 25, tls: .none, caFile: nil, fromAddress: "help@desk.test", username: nil,
            password: nil)
        #expect(try await store.plaintextLinks().isEmpty)

        try await store.setSMTP(
            host: "relay.example.com", port: 25, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: "help", password: "pw", insecurePlaintext: true)
        #expect(try await store.plaintextLinks() == [.relay(host: "relay.example.com", port: 25)])

        try await store.setSMTP(
            host: "relay.example.com", port: 587, tls: .starttls, caFile: nil, fromAddress: "help@desk.test",
            username: "help", password: "pw")
        #expect(try await store.plaintextLinks().isEmpty)
    }
}
