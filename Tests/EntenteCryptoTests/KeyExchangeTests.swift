import EntenteCrypto
import Testing

/// Proves that a secret-stream key encrypts what `other` decrypts.
private func streamWorks(from sender: SecretStreamKey, to receiver: SecretStreamKey) -> Bool {
    guard let pusher = try? SecretStreamPusher(key: sender),
        let puller = try? SecretStreamPuller(key: receiver, header: pusher.header),
        let sealed = try? pusher.push(Array("ping".utf8))
    else { return false }
    return (try? puller.pull(sealed))?.bytes == Array("ping".utf8)
}

@Suite struct KeyExchangeTests {
    @Test func clientAndServerDeriveTheSameKeysCrossed() throws {
        let client = KeyExchangeKeyPair.generate()
        let server = KeyExchangeKeyPair.generate()
        let clientKeys = try client.clientSessionKeys(serverKey: server.publicKey)
        let serverKeys = try server.serverSessionKeys(clientKey: client.publicKey)
        #expect(clientKeys.sending.constantTimeEquals(serverKeys.receiving))
        #expect(clientKeys.receiving.constantTimeEquals(serverKeys.sending))
        // Each direction has its own key.
        #expect(!clientKeys.sending.constantTimeEquals(clientKeys.receiving))
        #expect(streamWorks(from: clientKeys.sending, to: serverKeys.receiving))
        #expect(streamWorks(from: serverKeys.sending, to: clientKeys.receiving))
    }

    @Test func freshKeyPairsGiveFreshSessionKeys() throws {
        let server = KeyExchangeKeyPair.generate()
        let first = try KeyExchangeKeyPair.generate().clientSessionKeys(serverKey: server.publicKey)
        let second = try KeyExchangeKeyPair.generate().clientSessionKeys(serverKey: server.publicKey)
        #expect(!first.sending.constantTimeEquals(second.sending))
        #expect(!first.receiving.constantTimeEquals(second.receiving))
    }

    @Test func aWrongPeerKeyGivesKeysThatDoNotMatch() throws {
        let client = KeyExchangeKeyPair.generate()
        let server = KeyExchangeKeyPair.generate()
        let impostor = KeyExchangeKeyPair.generate()
        let clientKeys = try client.clientSessionKeys(serverKey: impostor.publicKey)
        let serverKeys = try server.serverSessionKeys(clientKey: client.publicKey)
        #expect(!clientKeys.sending.constantTimeEquals(serverKeys.receiving))
        #expect(!streamWorks(from: clientKeys.sending, to: serverKeys.receiving))
    }

    @Test func seededKeyPairsAreDeterministic() throws {
        let seed = (0..<32).map { UInt8($0) }
        let first = try KeyExchangeKeyPair(seed: seed)
        let second = try KeyExchangeKeyPair(seed: seed)
        #expect(first.publicKey == second.publicKey)
        var other = seed
        other[31] ^= 1
        #expect(try KeyExchangeKeyPair(seed: other).publicKey != first.publicKey)
        let server = try KeyExchangeKeyPair(seed: other)
        let a = try first.clientSessionKeys(serverKey: server.publicKey)
        let b = try second.clientSessionKeys(serverKey: server.publicKey)
        #expect(a.sending.constantTimeEquals(b.sending))
        #expect(a.receiving.constantTimeEquals(b.receiving))
    }

    @Test func smallOrderPeerKeysAreRefused() throws {
        let pair = KeyExchangeKeyPair.generate()
        let zero = try KeyExchangePublicKey(bytes: [UInt8](repeating: 0, count: 32))
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        for key in [zero, try KeyExchangePublicKey(bytes: one)] {
            #expect(throws: CryptoError.self) { try pair.clientSessionKeys(serverKey: key) }
            #expect(throws: CryptoError.self) { try pair.serverSessionKeys(clientKey: key) }
        }
    }

    @Test(arguments: [0, 31, 33, 64])
    func wrongLengthsAreRefused(length: Int) {
        #expect(throws: CryptoError.self) { try KeyExchangePublicKey(bytes: [UInt8](repeating: 9, count: length)) }
        #expect(throws: CryptoError.self) { try KeyExchangeKeyPair(seed: [UInt8](repeating: 9, count: length)) }
    }
}
