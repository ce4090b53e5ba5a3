export * from './version';
export * from './events';
export * from './schemas';
export * from './ack';
export * from './storable-text';
