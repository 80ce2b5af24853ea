import EntenteCore

/// The three inline SVG charts of the HTML report.
///
/// Geometry is integer pixels computed with exact
/// arithmetic (no floating point anywhere in the module); every text is escaped with ``Text/html(_:)``.
enum Charts {
    static let width = 1100
    static let labelWidth = 200
    static let plotWidth = 700
    static let rowHeight = 30
    static let barHeight = 18

    static let pipelineColor = "#0f766e"
    static let sourcedColor = "#2563eb"
    static let influencedColor = "#f59e0b"
    static let winColor = "#7c3aed"
    static let gridColor = "#e5e7eb"
    static let axisColor = "#9ca3af"
    static let inkColor = "#1f2937"
    static let mutedColor = "#6b7280"

    // MARK: Pipeline by stage

    /// Horizontal bars of open amount per stage: one panel per currency, each with its own scale.
    static func pipelineByStage(_ report: Report) -> String {
        var svg = SVG(id: "pipeline-by-stage", title: "Pipeline by stage: open amount per stage and currency")
        let stages = report.pipelineByStage
        let currencies = report.currencies.filter { currency in
            stages.contains { $0.pipeline.contains { $0.currency == currency } }
        }
        guard !currencies.isEmpty else {
            svg.message(stages.isEmpty ? "No open deals." : "No open deal has a visible amount.")
            return svg.finish()
        }
        var top = 0
        for currency in currencies {
            let values = stages.map { stage in
                stage.pipeline.first { $0.currency == currency }?.value ?? .zero
            }
            let scale = MoneyScale(maximum: values.max() ?? .zero)
            svg.text(x: 0, y: top + 18, "Open pipeline in \(currency.code)", weight: "700", size: "15")
            let rowsTop = top + 32
            let rowsBottom = rowsTop + stages.count * rowHeight
            svg.grid(ticks: scale.ticks, top: rowsTop, bottom: rowsBottom) { Figure.compact($0) }
            for (index, stage) in stages.enumerated() {
                let y = rowsTop + index * rowHeight
                let name = stage.stage ?? "(no stage)"
                svg.label(x: labelWidth - 12, y: y + 19, name, limit: 24)
                let length = scale.length(of: values[index], span: plotWidth)
                let count = stage.pipeline.contains { $0.currency == currency } ? stage.openDeals : 0
                svg.bar(
                    x: labelWidth,
                    y: y + 6,
                    width: length,
                    height: barHeight,
                    color: pipelineColor,
                    tooltip: "\(name): \(Figure.money(values[index], currency))"
                )
                let deals = stage.openDeals == 1 ? "1 open deal" : "\(stage.openDeals) open deals"
                let note = count == 0 ? "" : " · \(deals)"
                svg.text(
                    x: labelWidth + length + 8,
                    y: y + 19,
                    Figure.money(values[index], currency) + note,
                    size: "12.5"
                )
            }
            svg.axisLine(top: rowsTop, bottom: rowsBottom)
            svg.text(
                x: labelWidth + plotWidth / 2,
                y: rowsBottom + 40,
                "Open amount (\(currency.code))",
                anchor: "middle",
                size: "12.5",
                color: mutedColor
            )
            top = rowsBottom + 60
        }
        let hidden = stages.reduce(0) { $0 + $1.openDealsWithoutAmount }
        if hidden > 0 {
            let deals =
                hidden == 1
                ? "1 open deal has no visible amount and is" : "\(hidden) open deals have no visible amount and are"
            svg.text(x: 0, y: top + 4, "\(deals) not charted.", size: "12", color: mutedColor)
            top += 20
        }
        svg.height = top
        return svg.finish()
    }

    // MARK: Sourced vs influenced

    /// Grouped columns per partner: deals the partner brought next to deals it influenced.
    static func sourcedVersusInfluenced(_ report: Report) -> String {
        var svg = SVG(
            id: "sourced-vs-influenced",
            title: "Partner-sourced and partner-influenced deals per partner"
        )
        let partners = report.partners
        guard !partners.isEmpty else {
            svg.message("No deal involves a partner.")
            return svg.finish()
        }
        let left = 70
        let right = width - 20
        let plotTop = 52
        let plotBottom = 312
        let plotHeight = plotBottom - plotTop
        let maximum = partners.map { max($0.sourced.total, $0.influenced.total) }.max() ?? 0
        let (top, step) = countScale(maximum: maximum)

        svg.legend(x: left, y: 16, [("Partner-sourced", sourcedColor), ("Partner-influenced", influencedColor)])
        var tick = 0
        while tick <= top {
            let y = plotBottom - tick * plotHeight / top
            svg.line(x1: left, y1: y, x2: right, y2: y, color: tick == 0 ? axisColor : gridColor)
            svg.text(x: left - 8, y: y + 4, "\(tick)", anchor: "end", size: "12", color: mutedColor)
            tick += step
        }
        svg.rotatedText(x: 20, y: (plotTop + plotBottom) / 2, "Deals (all outcomes)")

        let band = (right - left) / partners.count
        let barWidth = min(44, band * 32 / 100)
        for (index, partner) in partners.enumerated() {
            let center = left + band * index + band / 2
            let bars = [
                (partner.sourced.total, sourcedColor, "sourced", center - barWidth - 3),
                (partner.influenced.total, influencedColor, "influenced", center + 3),
            ]
            for (count, color, kind, x) in bars {
                let height = count * plotHeight / top
                svg.bar(
                    x: x,
                    y: plotBottom - height,
                    width: barWidth,
                    height: height,
                    color: color,
                    tooltip: "\(partner.partner): \(count) \(kind)"
                )
                svg.text(
                    x: x + barWidth / 2,
                    y: plotBottom - height - 6,
                    "\(count)",
                    anchor: "middle",
                    weight: "600",
                    size: "12.5"
                )
            }
            svg.label(x: center, y: plotBottom + 20, partner.partner, limit: max(4, band / 8), anchor: "middle")
        }
        svg.text(
            x: (left + right) / 2,
            y: plotBottom + 46,
            "Partner (one deal can count for several partners: never add these bars)",
            anchor: "middle",
            size: "12.5",
            color: mutedColor
        )
        svg.height = plotBottom + 60
        return svg.finish()
    }

    // MARK: Win ratio

    /// Horizontal bars of win ratio per partner, 0–100 %, with the all-deals ratio as a dashed reference.
    static func winRatioByPartner(_ report: Report) -> String {
        var svg = SVG(id: "win-ratio-by-partner", title: "Win ratio per partner (won over closed deals)")
        let partners = report.partners
        guard !partners.isEmpty else {
            svg.message("No deal involves a partner.")
            return svg.finish()
        }
        let rowsTop = 30
        let rowsBottom = rowsTop + partners.count * rowHeight
        let ticks = [0, 25, 50, 75, 100].map { ExactDecimal($0) }
        svg.grid(ticks: ticks, top: rowsTop, bottom: rowsBottom, scale: MoneyScale(fixedMaximum: ExactDecimal(100))) {
            "\($0)%"
        }
        for (index, partner) in partners.enumerated() {
            let y = rowsTop + index * rowHeight
            svg.label(x: labelWidth - 12, y: y + 19, partner.partner, limit: 24)
            guard let ratio = partner.winRatio else {
                svg.text(x: labelWidth + 8, y: y + 19, "n/a (no closed deals)", size: "12.5", color: mutedColor)
                continue
            }
            let length = percentLength(ratio.percent)
            svg.bar(
                x: labelWidth,
                y: y + 6,
                width: length,
                height: barHeight,
                color: winColor,
                tooltip: "\(partner.partner): \(Figure.percent(ratio))"
            )
            svg.text(
                x: labelWidth + length + 8,
                y: y + 19,
                "\(Figure.percent(ratio)) (\(ratio.won) of \(ratio.closed) closed)",
                size: "12.5"
            )
        }
        svg.axisLine(top: rowsTop, bottom: rowsBottom)
        if let overall = report.total.winRatio {
            let x = labelWidth + percentLength(overall.percent)
            svg.line(x1: x, y1: rowsTop - 6, x2: x, y2: rowsBottom, color: inkColor, dashed: true)
            svg.text(x: x, y: rowsTop - 12, "All deals: \(Figure.percent(overall))", anchor: "middle", size: "12")
        }
        svg.text(
            x: labelWidth + plotWidth / 2,
            y: rowsBottom + 40,
            "Win ratio (won ÷ (won + lost))",
            anchor: "middle",
            size: "12.5",
            color: mutedColor
        )
        svg.height = rowsBottom + 56
        return svg.finish()
    }

    private static func percentLength(_ percent: ExactDecimal) -> Int {
        MoneyScale(fixedMaximum: ExactDecimal(100)).length(of: percent, span: plotWidth)
    }

    /// An axis top that is a multiple of a 1-2-5 step, with at most five steps.
    static func countScale(maximum: Int) -> (top: Int, step: Int) {
        guard maximum > 0 else { return (1, 1) }
        var step = 1
        var pattern = [1, 2, 5]
        var base = 1
        while (maximum + step - 1) / step > 5 {
            pattern.removeFirst()
            if pattern.isEmpty {
                base *= 10
                pattern = [1, 2, 5]
            }
            step = pattern[0] * base
        }
        return ((maximum + step - 1) / step * step, step)
    }
}

/// A linear scale from zero to a "nice" maximum (1, 2, 2.5 or 5 × 10^k), with five intervals.
struct MoneyScale {
    let maximum: ExactDecimal
    let ticks: [ExactDecimal]

    init(maximum value: ExactDecimal) {
        let nice = Self.niceCeiling(value)
        self.init(fixedMaximum: nice)
    }

    init(fixedMaximum: ExactDecimal) {
        maximum = fixedMaximum
        // tick i = maximum × i / 5, exact at one more decimal place.
        ticks = (0...5).map { index in
            ExactDecimal.quotient(fixedMaximum, times: UInt128(index), dividedBy: 5, places: fixedMaximum.scale + 1)
                ?? .zero
        }
    }

    /// Pixels for `value` on a `span`-pixel axis (values below zero draw nothing; above the maximum, full).
    func length(of value: ExactDecimal, span: Int) -> Int {
        guard !value.isNegative, maximum.significand > 0 else { return 0 }
        let places = max(value.scale, maximum.scale)
        let top = maximum.significand(at: places)
        let part = value.significand(at: places)
        guard !top.overflow else { return 0 }
        guard !part.overflow else { return span }
        let pixels = ExactDecimal.mulDivRounded(part.value.magnitude, UInt128(span), top.value.magnitude)
        return pixels.overflow ? span : Int(min(pixels.value, UInt128(span)))
    }

    /// The smallest of 1, 2, 2.5, 5, 10 × 10^k that is at least `value` (whole units; 1 for zero).
    static func niceCeiling(_ value: ExactDecimal) -> ExactDecimal {
        guard value.significand > 0 else { return ExactDecimal(1) }
        let divisor = ExactDecimal.powerOfTen(Int(value.scale))
        let (whole, rest) = value.significand.magnitude.quotientAndRemainder(dividingBy: divisor)
        let ceiling = rest > 0 ? whole + 1 : whole
        var power: UInt128 = 1
        while power <= ceiling / 10 { power *= 10 }
        // candidates in tenths of `power`: 10, 20, 25, 50, 100
        for tenths: UInt128 in [10, 20, 25, 50, 100] {
            let (candidate, overflow) = power.multipliedReportingOverflow(by: tenths)
            guard !overflow else { break }
            if candidate / 10 >= ceiling {
                return ExactDecimal(significand: Int128(clamping: candidate), scale: 1) ?? value
            }
        }
        return value
    }
}

/// An SVG document under construction.
struct SVG {
    let id: String
    let title: String
    var height = 80
    private var body = ""

    init(id: String, title: String) {
        self.id = id
        self.title = title
    }

    mutating func message(_ text: String) {
        self.text(x: Charts.width / 2, y: 44, text, anchor: "middle", size: "14", color: Charts.mutedColor)
        height = 80
    }

    mutating func text(
        x: Int,
        y: Int,
        _ content: String,
        anchor: String = "start",
        weight: String = "400",
        size: String = "13",
        color: String = Charts.inkColor
    ) {
        body +=
            "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" font-size=\"\(size)\" "
            + "fill=\"\(color)\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">\(Text.html(content))</text>\n"
    }

    /// A category label, cut to `limit` characters, with the full name as a tooltip.
    mutating func label(x: Int, y: Int, _ name: String, limit: Int, anchor: String = "end") {
        let shown = Text.truncated(Text.display(name), to: limit)
        body +=
            "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"13\" fill=\"\(Charts.inkColor)\">"
            + "<title>\(Text.html(name))</title>\(Text.html(shown))</text>\n"
    }

    mutating func rotatedText(x: Int, y: Int, _ content: String) {
        body +=
            "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"middle\" font-size=\"12.5\" fill=\"\(Charts.mutedColor)\" "
            + "transform=\"rotate(-90 \(x) \(y))\">\(Text.html(content))</text>\n"
    }

    mutating func bar(x: Int, y: Int, width: Int, height: Int, color: String, tooltip: String) {
        body +=
            "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(max(0, width))\" height=\"\(max(0, height))\" rx=\"3\" "
            + "fill=\"\(color)\"><title>\(Text.html(tooltip))</title></rect>\n"
    }

    mutating func line(x1: Int, y1: Int, x2: Int, y2: Int, color: String, dashed: Bool = false) {
        body +=
            "<line x1=\"\(x1)\" y1=\"\(y1)\" x2=\"\(x2)\" y2=\"\(y2)\" stroke=\"\(color)\" stroke-width=\"1\""
            + (dashed ? " stroke-dasharray=\"5 4\"" : "") + "/>\n"
    }

    /// Vertical grid lines and tick labels for a horizontal-bar plot.
    mutating func grid(
        ticks: [ExactDecimal],
        top: Int,
        bottom: Int,
        scale: MoneyScale? = nil,
        label: (ExactDecimal) -> String
    ) {
        let axis = scale ?? MoneyScale(fixedMaximum: ticks.last ?? ExactDecimal(1))
        for tick in ticks {
            let x = Charts.labelWidth + axis.length(of: tick, span: Charts.plotWidth)
            line(x1: x, y1: top, x2: x, y2: bottom, color: Charts.gridColor)
            text(x: x, y: bottom + 18, label(tick), anchor: "middle", size: "12", color: Charts.mutedColor)
        }
    }

    /// The value axis' base line at the left of the bars.
    mutating func axisLine(top: Int, bottom: Int) {
        line(x1: Charts.labelWidth, y1: top, x2: Charts.labelWidth, y2: bottom, color: Charts.axisColor)
    }

    mutating func legend(x: Int, y: Int, _ entries: [(String, String)]) {
        var cursor = x
        for (name, color) in entries {
            body += "<rect x=\"\(cursor)\" y=\"\(y - 11)\" width=\"14\" height=\"14\" rx=\"3\" fill=\"\(color)\"/>\n"
            text(x: cursor + 20, y: y, name, size: "13")
            cursor += 20 + name.count * 8 + 28
        }
    }

    func finish() -> String {
        "<svg class=\"chart\" data-chart=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
            + "\(Charts.width) \(height)\" width=\"\(Charts.width)\" height=\"\(height)\" role=\"img\" "
            + "font-family=\"system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif\">\n"
            + "<title>\(Text.html(title))</title>\n" + body + "</svg>"
    }
}
