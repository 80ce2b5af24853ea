import EntenteCrypto
import Testing

@Suite struct SecretStreamTests {
    let key = SecretStreamKey.random()
    let messages: [[UInt8]] = [Array("first".utf8), [], Array(repeating: 0xAB, count: 70_000), Array("last".utf8)]

    /// Pushes `messages`, the last one tagged final.
    func sealedStream() throws -> (header: [UInt8], chunks: [[UInt8]]) {
        let pusher = try SecretStreamPusher(key: key)
        var chunks: [[UInt8]] = []
        for (index, message) in messages.enumerated() {
            chunks.append(try pusher.push(message, tag: index == messages.count - 1 ? .final : .message))
        }
        return (pusher.header, chunks)
    }

    @Test func roundTripInOrderWithTags() throws {
        let (header, chunks) = try sealedStream()
        #expect(header.count == SecretStreamPusher.headerByteCount)
        let puller = try SecretStreamPuller(key: key, header: header)
        for (index, chunk) in chunks.enumerated() {
            #expect(chunk.count == messages[index].count + SecretStreamPusher.overhead)
            let opened = try puller.pull(chunk)
            #expect(opened.bytes == messages[index])
            #expect(opened.tag == (index == chunks.count - 1 ? .final : .message))
        }
        #expect(puller.isFinished)
    }

    @Test func additionalDataMustMatch() throws {
        let pusher = try SecretStreamPusher(key: key)
        let sealed = try pusher.push([1, 2, 3], additionalData: [9])
        #expect(throws: CryptoError.self) {
            try SecretStreamPuller(key: key, header: pusher.header).pull(sealed, additionalData: [8])
        }
        #expect(
            try SecretStreamPuller(key: key, header: pusher.header).pull(sealed, additionalData: [9]).bytes == [
                1, 2, 3,
            ]
        )
    }

    @Test func everyFlippedByteIsRefused() throws {
        let (header, chunks) = try sealedStream()
        let chunk = chunks[0]
        for index in chunk.indices {
            var tampered = chunk
            tampered[index] ^= 0x01
            let puller = try SecretStreamPuller(key: key, header: header)
            #expect(throws: CryptoError.self, "flipped byte \(index)") { try puller.pull(tampered) }
        }
        var badHeader = header
        badHeader[0] ^= 0x80
        #expect(throws: CryptoError.self) { try SecretStreamPuller(key: key, header: badHeader).pull(chunk) }
    }

    @Test func aWrongKeyIsRefused() throws {
        let (header, chunks) = try sealedStream()
        let puller = try SecretStreamPuller(key: SecretStreamKey.random(), header: header)
        #expect(throws: CryptoError.self) { try puller.pull(chunks[0]) }
    }

    @Test func truncationIsRefusedOrDetected() throws {
        let (header, chunks) = try sealedStream()
        // A cut chunk fails.
        for length in [0, 1, SecretStreamPusher.overhead - 1, chunks[2].count - 1] {
            let puller = try SecretStreamPuller(key: key, header: header)
            _ = try puller.pull(chunks[0])
            _ = try puller.pull(chunks[1])
            #expect(throws: CryptoError.self, "cut to \(length) bytes") {
                try puller.pull(Array(chunks[2].prefix(length)))
            }
        }
        // A stream cut before its final chunk is visibly unfinished.
        let puller = try SecretStreamPuller(key: key, header: header)
        for chunk in chunks.dropLast() { _ = try puller.pull(chunk) }
        #expect(!puller.isFinished)
    }

    @Test func reorderedReplayedOrSkippedChunksAreRefused() throws {
        let (header, chunks) = try sealedStream()
        // Reordered.
        var puller = try SecretStreamPuller(key: key, header: header)
        #expect(throws: CryptoError.self) { try puller.pull(chunks[1]) }
        // Replayed.
        puller = try SecretStreamPuller(key: key, header: header)
        _ = try puller.pull(chunks[0])
        #expect(throws: CryptoError.self) { try puller.pull(chunks[0]) }
        // Skipped (a dropped chunk).
        puller = try SecretStreamPuller(key: key, header: header)
        _ = try puller.pull(chunks[0])
        #expect(throws: CryptoError.self) { try puller.pull(chunks[2]) }
        // A chunk of another stream under the same key.
        let (_, otherChunks) = try sealedStream()
        puller = try SecretStreamPuller(key: key, header: header)
        #expect(throws: CryptoError.self) { try puller.pull(otherChunks[0]) }
    }

    @Test func aFailedPullBreaksThePullerForGood() throws {
        let (header, chunks) = try sealedStream()
        let puller = try SecretStreamPuller(key: key, header: header)
        var tampered = chunks[0]
        tampered[tampered.count - 1] ^= 1
        #expect(throws: CryptoError.self) { try puller.pull(tampered) }
        // Even the authentic chunk is refused now: nobody can skip past a bad message.
        #expect(throws: CryptoError.self) { try puller.pull(chunks[0]) }
    }

    @Test func nothingAfterTheFinalChunk() throws {
        let pusher = try SecretStreamPusher(key: key)
        let puller = try SecretStreamPuller(key: key, header: pusher.header)
        _ = try puller.pull(try pusher.push([1], tag: .final))
        #expect(throws: CryptoError.self) { try pusher.push([2]) }
        // Even a chunk from a pusher that kept going after its final message is refused.
        let rogue = try SecretStreamPusher(key: key)
        let rogueChunks = [try rogue.push([1], tag: .final)]
        let victim = try SecretStreamPuller(key: key, header: rogue.header)
        _ = try victim.pull(rogueChunks[0])
        #expect(victim.isFinished)
        #expect(throws: CryptoError.self) { try victim.pull(rogueChunks[0]) }
    }

    @Test(arguments: [0, 23, 25])
    func badHeaderAndKeyLengthsAreRefused(length: Int) {
        #expect(throws: CryptoError.self) {
            try SecretStreamPuller(key: key, header: [UInt8](repeating: 0, count: length))
        }
        #expect(throws: CryptoError.self) { try SecretStreamKey(bytes: [UInt8](repeating: 0, count: length)) }
    }

    @Test func keysFromBytesInteroperate() throws {
        let raw = (0..<32).map { UInt8($0) }
        let pusher = try SecretStreamPusher(key: try SecretStreamKey(bytes: raw))
        let puller = try SecretStreamPuller(key: try SecretStreamKey(bytes: raw), header: pusher.header)
        #expect(try puller.pull(try pusher.push([42])).bytes == [42])
        // A fresh header every time: the same key and message give different ciphertexts.
        let again = try SecretStreamPusher(key: try SecretStreamKey(bytes: raw))
        #expect(again.header != pusher.header)
    }
}
