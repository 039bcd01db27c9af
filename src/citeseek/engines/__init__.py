"""Engines: how a collection is built.

``builder`` does a build's work (changed files parsed and recorded, missing vectors
embedded, the index built and tuned); ``stacking`` is how its store sits on the live
one (a delta stacked or merged, or one store written whole); ``publish`` runs a build under the collection's
lock and publishes it; ``settings`` is what a build starts from (the live generation,
read once, and the settings merged from it); ``report`` says what a build did;
``dispatch`` checks the engine asked for and its options and runs the build with it.
``ray_driver`` and ``ray_worker`` are the same build with reading, chunking and
embedding on a Ray Data actor pool.
"""
