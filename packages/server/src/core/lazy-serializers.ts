import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Factory = ReturnType<typeof SerializerSelector>;
type Serialize = (data: unknown) => string;

export interface LazySerializers {
  /** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
  factory: Factory;
  /** Compiles every serializer not compiled yet (a schema error then shows now); returns how many there are. */
  compileAll(): number;
}

/**
 * Fastify's response serializer factory, compiling each route's serializer on its first answer
 * rather than all of them at boot. fast-json-stringify generates a function of tens of kilobytes
 * of source per response schema; Hangar has about 140 of them, most never used by a given server,
 * and compiling them all took a fifth of the start-up time and several megabytes of idle heap.
 */
export function lazySerializers(): LazySerializers {
  const build = SerializerSelector();
  const all: (() => Serialize)[] = [];
  const factory: Factory = (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (route) => {
      let serialize: Serialize | undefined;
      const compiled = () => (serialize ??= compile(route) as Serialize);
      all.push(compiled);
      return (data: unknown) => (serialize ?? compiled())(data);
    };
  };
  return {
    factory,
    compileAll() {
      for (const compiled of all) compiled();
      return all.length;
    },
  };
}
