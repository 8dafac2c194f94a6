import factory
from django.contrib.auth.hashers import make_password

from users.models import Media, User

TEST_PASSWORD = "correct-horse-battery-staple"


class MediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Media

    url = factory.Sequence(lambda n: f"https://cdn.allmine.test/uploads/images/{n}.jpg")
    variants = factory.LazyAttribute(
        lambda media: {
            "40": media.url.replace(".jpg", "-40.webp"),
            "76": media.url.replace(".jpg", "-76.webp"),
        }
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@allmine.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.LazyFunction(lambda: make_password(TEST_PASSWORD))
    profile_photo = factory.SubFactory(MediaFactory)
    availability_status = User.AvailabilityStatus.AVAILABLE
