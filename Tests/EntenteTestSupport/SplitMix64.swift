import EntenteCore

/// A seeded, repeatable random number generator (SplitMix64), so a failing property test reproduces from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A uniformly random integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    /// True with the given probability in percent.
    public mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
    /// A random 128-bit id.
    public mutating func id128() -> ID128 { ID128(high: next(), low: next()) }
    /// A random company id.
    public mutating func company() -> CompanyID { CompanyID(raw: id128()) }
    /// A random replica id.
    public mutating func replica() -> ReplicaID { ReplicaID(raw: id128()) }
    /// A random element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    /// A random object id.
    public mutating func object() -> ObjectID { ObjectID(raw: id128()) }
}
