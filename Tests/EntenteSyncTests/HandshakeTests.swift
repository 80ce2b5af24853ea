import EntenteCore
import EntenteCrypto
import EntenteWire
import Testing

@testable import EntenteSync

/// The mutually authenticated handshake, over the in-memory transport and on the bare state machine.
@Suite struct HandshakeTests {
    let alice = Identity()
    let bob = Identity()

    @Test func partnersAuthenticateEachOtherAndSyncBothWays() async throws {
        let aliceStore = FakeStore(alice, envelopes: FakeStore.envelopes(3, tag: 1))
        let bobStore = FakeStore(bob, envelopes: FakeStore.envelopes(5, tag: 2))
        let (client, server) = try await syncedPair(alice, aliceStore, bob, bobStore)
        #expect(client.peer == bob.company && client.peerReplica == bob.replica && client.isClient)
        #expect(server.peer == alice.company && server.peerReplica == alice.replica && !server.isClient)
        #expect(client.version == 1 && server.version == 1)
        #expect(client.sent == 3 && client.received == 5 && server.sent == 5 && server.received == 3)
        #expect(client.peerApplied == 3 && server.peerApplied == 5)
        #expect(client.bytesSent == server.bytesReceived && client.bytesReceived == server.bytesSent)
        #expect(bobStore.received(from: alice) == FakeStore.envelopes(3, tag: 1))
        #expect(aliceStore.received(from: bob) == FakeStore.envelopes(5, tag: 2))
    }

    @Test func anUnknownCompanyIsRefusedBeforeAnythingElseIsRead() async throws {
        let bobStore = FakeStore(bob, envelopes: FakeStore.envelopes(2))
        let recorder = Recorder()
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: FakeStore.envelopes(2)),
            server: bob.configuration(trusting: []),
            serverStore: bobStore,
            tap: { side, _, bytes in
                recorder.record(side, bytes)
                return .deliver(bytes)
            }
        )
        #expect(result.server.error?.code == .unknownCompany)
        #expect(result.client.error?.code == .refused)
        #expect(result.client.error?.message.contains("not a partner") == true)
        // The server answered the hello with a refusal only, and never touched its store.
        #expect(bobStore.calls == 0)
        #expect(recorder.frames(.server).count == 1)
        #expect(recorder.frames(.client).count == 1)
    }

    @Test func aForgedCertificateIsRefused() async throws {
        // Someone claims to be Alice with a certificate that Alice's company key did not sign.
        let impostor = Identity.forging(alice.company)
        let bobStore = FakeStore(bob)
        let result = await runPair(
            client: impostor.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(impostor),
            server: bob.configuration(trusting: [alice]),
            serverStore: bobStore
        )
        #expect(result.server.error?.code == .authenticationFailed)
        #expect(result.client.error?.code == .refused)
        #expect(bobStore.calls == 0)
    }

    @Test func aPartnerPinnedWithAnotherKeyIsRefused() async throws {
        // Bob pinned a different key for Alice's company id (a wrong key): her real certificate does not verify.
        var configuration = bob.configuration(trusting: [])
        configuration.partners[alice.company] = SigningKeyPair.generate().publicKey
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: configuration,
            serverStore: FakeStore(bob)
        )
        #expect(result.server.error?.code == .authenticationFailed)
        #expect(result.client.error?.code == .refused)
    }

    @Test func aServerWithAForgedCertificateIsRefusedByTheClient() async throws {
        let impostor = Identity.forging(bob.company)
        let aliceStore = FakeStore(alice, envelopes: FakeStore.envelopes(2))
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: aliceStore,
            server: impostor.configuration(trusting: [alice]),
            serverStore: FakeStore(impostor)
        )
        #expect(result.client.error?.code == .authenticationFailed)
        #expect(result.server.report == nil)
        #expect(aliceStore.calls == 0)
    }

    @Test func aReplayedClientFlightFails() async throws {
        // Record a successful session's client frames, then replay them to a fresh server session.
        let recorder = Recorder()
        let first = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: FakeStore.envelopes(2)),
            server: bob.configuration(trusting: [alice]),
            serverStore: FakeStore(bob),
            tap: { side, _, bytes in
                recorder.record(side, bytes)
                return .deliver(bytes)
            }
        )
        #expect(first.client.report != nil && first.server.report != nil)
        let clientFrames = recorder.frames(.client)
        #expect(clientFrames.count >= 3)

        var server = SyncSession(role: .server, configuration: bob.configuration(trusting: [alice]))
        let actions = replay(clientFrames, into: &server)
        #expect(!authenticated(in: actions))
        #expect(failure(in: actions)?.code == .authenticationFailed)

        // The recorded server flight does not fool a fresh client either.
        var client = SyncSession(
            role: .client(dialing: bob.company),
            configuration: alice.configuration(trusting: [bob])
        )
        let clientActions = replay(recorder.frames(.server), into: &client)
        #expect(!authenticated(in: clientActions))
        #expect(failure(in: clientActions)?.code == .authenticationFailed)

        // Nor does replaying the recorded session over a live link.
        let replayed = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: bob.configuration(trusting: [alice]),
            serverStore: FakeStore(bob),
            tap: { side, index, bytes in
                side == .client && index < clientFrames.count ? .deliver(clientFrames[index]) : .deliver(bytes)
            }
        )
        #expect(replayed.server.error?.code == .authenticationFailed)
        #expect(replayed.client.report == nil)
    }

    /// Client frames: 0 hello, 1 finish, 2 summary, 3+ batches; server frames: 0 hello, 1 summary, 2+ batches.
    @Test(arguments: [
        (InMemorySide.client, 0), (.client, 1), (.client, 2), (.client, 3), (.server, 0), (.server, 1), (.server, 2),
    ])
    func aTamperedFrameFails(side: InMemorySide, frame: Int) async throws {
        for position in [4, 9, 40, -1] {
            let aliceStore = FakeStore(alice, envelopes: FakeStore.envelopes(4, tag: 1))
            let bobStore = FakeStore(bob, envelopes: FakeStore.envelopes(4, tag: 2))
            let result = await runPair(
                client: alice.configuration(trusting: [bob]),
                dialing: bob.company,
                clientStore: aliceStore,
                server: bob.configuration(trusting: [alice]),
                serverStore: bobStore,
                tap: { writer, index, bytes in
                    guard writer == side, index == frame else { return .deliver(bytes) }
                    var tampered = bytes
                    let offset = position < 0 ? bytes.count + position : min(position, bytes.count - 1)
                    tampered[offset] ^= 0x20
                    return .deliver(tampered)
                }
            )
            #expect(
                result.client.report == nil && result.server.report == nil,
                "a flipped byte at \(position) of \(side) frame \(frame) went unnoticed"
            )
            let victim = side == .client ? result.server : result.client
            if frame >= 2 || (side == .server && frame >= 1) {
                #expect(victim.error?.code == .tamperedFrame, "\(String(describing: victim.error))")
            }
            // Nothing of a tampered batch was imported.
            if side == .client, frame == 3 { #expect(bobStore.received(from: alice).isEmpty) }
            if side == .server, frame == 2 { #expect(aliceStore.received(from: bob).isEmpty) }
        }
    }

    @Test func aSwappedIdentityFails() async throws {
        let carol = Identity()
        // 1. Alice dials Bob but reaches Carol's honest node: Carol refuses.
        var result = await runPair(
            client: alice.configuration(trusting: [bob, carol]),
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: carol.configuration(trusting: [alice]),
            serverStore: FakeStore(carol)
        )
        #expect(result.client.error?.code == .refused)
        #expect(result.server.error?.code == .authenticationFailed)

        // 2. Someone rewrites the hello so that Carol answers as herself: Alice notices she is not Bob.
        let carolID = carol.company.bytes
        result = await runPair(
            client: alice.configuration(trusting: [bob, carol]),
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: carol.configuration(trusting: [alice]),
            serverStore: FakeStore(carol),
            tap: { side, index, bytes in
                guard side == .client, index == 0 else { return .deliver(bytes) }
                return .deliver(
                    reframed(bytes) { body in
                        // magic, type, count, one version, company, replica key, certificate, then the intended server.
                        let offset = 4 + 1 + 1 + 1 + 16 + 32 + 64
                        body.replaceSubrange(offset..<offset + 16, with: carolID)
                    }
                )
            }
        )
        #expect(result.client.error?.code == .authenticationFailed)
        #expect(result.client.error?.message.contains("answered") == true)

        // 3. Carol pretends to be Bob, with a certificate for Bob's company signed by her own key.
        let pretender = Identity.forging(bob.company)
        result = await runPair(
            client: alice.configuration(trusting: [bob, carol]),
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: pretender.configuration(trusting: [alice]),
            serverStore: FakeStore(pretender)
        )
        #expect(result.client.error?.code == .authenticationFailed)
    }

    @Test func aDowngradeIsDetected() async throws {
        var aliceConfiguration = alice.configuration(trusting: [bob])
        var bobConfiguration = bob.configuration(trusting: [alice])
        aliceConfiguration.versions = [1, 2]
        bobConfiguration.versions = [1, 2]

        // Untouched, both agree on the highest version.
        let honest = await runPair(
            client: aliceConfiguration,
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: bobConfiguration,
            serverStore: FakeStore(bob)
        )
        #expect(honest.client.report?.version == 2 && honest.server.report?.version == 2)

        // An attacker strips version 2 from the client's offer: the server's signature covers what it saw.
        let stripped = await runPair(
            client: aliceConfiguration,
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: bobConfiguration,
            serverStore: FakeStore(bob),
            tap: { side, index, bytes in
                guard side == .client, index == 0 else { return .deliver(bytes) }
                return .deliver(reframed(bytes) { body in body.replaceSubrange(5..<8, with: [1, 1]) })
            }
        )
        #expect(stripped.client.error?.code == .authenticationFailed)
        #expect(stripped.client.report == nil && stripped.server.report == nil)

        // An attacker changes the server's choice.
        let changed = await runPair(
            client: aliceConfiguration,
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: bobConfiguration,
            serverStore: FakeStore(bob),
            tap: { side, index, bytes in
                guard side == .server, index == 0 else { return .deliver(bytes) }
                return .deliver(reframed(bytes) { body in body[5] = 1 })
            }
        )
        #expect(changed.client.error?.code == .authenticationFailed)

        // No common version: refused with a reason.
        aliceConfiguration.versions = [2]
        bobConfiguration.versions = [1]
        let none = await runPair(
            client: aliceConfiguration,
            dialing: bob.company,
            clientStore: FakeStore(alice),
            server: bobConfiguration,
            serverStore: FakeStore(bob)
        )
        #expect(none.server.error?.code == .unsupportedVersion)
        #expect(none.client.error?.code == .unsupportedVersion)
    }

    @Test func aClientRefusesToDialAnUnpinnedCompany() async throws {
        var session = SyncSession(role: .client(dialing: bob.company), configuration: alice.configuration(trusting: []))
        let actions = session.start()
        #expect(failure(in: actions)?.code == .unknownCompany)
        #expect(!actions.contains { if case .send = $0 { true } else { false } })
    }

    @Test func garbageInsteadOfAHelloIsRefused() throws {
        var server = SyncSession(role: .server, configuration: bob.configuration(trusting: [alice]))
        _ = server.start()
        let actions = server.receive(FrameDecoder.frame(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        #expect(failure(in: actions)?.code == .protocolViolation)
        // It answers with a refusal the other side can read.
        let sent = actions.compactMap { if case .send(let bytes) = $0 { bytes } else { nil } }
        #expect(sent.count == 1)
        #expect(Array(sent[0].dropFirst(4).prefix(5)) == Array("ENTS".utf8) + [4])
    }
}
