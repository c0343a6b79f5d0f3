package dev.buddy.router.lora;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * A block projection a LoRA adapter may sit on, named as on the command line ({@code q,k,v,o,gate,up,down}) and as
 * the GGUF tensor it adapts ({@code blk.N.attn_q.weight} …). The default is all seven, as in the BUDDY paper's LoRA
 * setting and QLoRA: every linear layer of the block.
 */
public enum LoraTarget {
    Q("q", "attn_q"),
    K("k", "attn_k"),
    V("v", "attn_v"),
    O("o", "attn_output"),
    GATE("gate", "ffn_gate"),
    UP("up", "ffn_up"),
    DOWN("down", "ffn_down");

    private final String cliName;
    private final String tensorStem;

    LoraTarget(String cliName, String tensorStem) {
        this.cliName = cliName;
        this.tensorStem = tensorStem;
    }

    public String cliName() {
        return cliName;
    }

    /** The base tensor this target adapts in block {@code block}, e.g. {@code blk.3.attn_q.weight}. */
    public String tensorName(int block) {
        return "blk." + block + "." + tensorStem + ".weight";
    }

    /** The projection's input width. */
    public int inputs(ModelSpec spec) {
        return switch (this) {
            case Q, K, V, GATE, UP -> spec.embeddingLength();
            case O -> spec.queryDim();
            case DOWN -> spec.feedForwardLength();
        };
    }

    /** The projection's output width. */
    public int outputs(ModelSpec spec) {
        return switch (this) {
            case Q -> spec.queryDim();
            case K, V -> spec.kvDim();
            case O, DOWN -> spec.embeddingLength();
            case GATE, UP -> spec.feedForwardLength();
        };
    }

    /** The base matrix of this target in a block. */
    public WeightMatrix of(LayerWeights w) {
        return switch (this) {
            case Q -> w.wq();
            case K -> w.wk();
            case V -> w.wv();
            case O -> w.wo();
            case GATE -> w.ffnGate();
            case UP -> w.ffnUp();
            case DOWN -> w.ffnDown();
        };
    }

    /** The target whose tensor stem {@code name} ends a tensor name {@code blk.N.<stem>.weight}, or null. */
    static LoraTarget ofTensorStem(String stem) {
        for (LoraTarget t : values()) {
            if (t.tensorStem.equals(stem)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Parses a comma-separated list of {@code q,k,v,o,gate,up,down}, or {@code all}, {@code attn} (q,k,v,o),
     * {@code ffn} (gate,up,down).
     *
     * @throws InvalidLoraOptionException naming the unknown entry
     */
    public static Set<LoraTarget> parse(String list) {
        EnumSet<LoraTarget> set = EnumSet.noneOf(LoraTarget.class);
        for (String raw : list.split(",")) {
            String name = raw.strip().toLowerCase(Locale.ROOT);
            switch (name) {
                case "all" -> set.addAll(EnumSet.allOf(LoraTarget.class));
                case "attn" -> set.addAll(EnumSet.of(Q, K, V, O));
                case "ffn" -> set.addAll(EnumSet.of(GATE, UP, DOWN));
                default -> {
                    LoraTarget found = null;
                    for (LoraTarget t : values()) {
                        if (t.cliName.equals(name)) {
                            found = t;
                        }
                    }
                    if (found == null) {
                        throw new InvalidLoraOptionException("unknown LoRA target '" + raw.strip()
                                + "'; use q,k,v,o,gate,up,down, attn, ffn or all");
                    }
                    set.add(found);
                }
            }
        }
        if (set.isEmpty()) {
            throw new InvalidLoraOptionException("no LoRA targets given");
        }
        return set;
    }
}
